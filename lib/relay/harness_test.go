package relay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/config"
	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/pusherlocal"
	"github.com/chatwire/chatwire/lib/realtime"
	"github.com/chatwire/chatwire/lib/relay"
	"github.com/chatwire/chatwire/lib/store"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		runChildRelay() // never returns
	}
	dbtest.Main(m)
}

const (
	pusherAppID  = "4242"
	pusherKey    = "relay-test-key"
	pusherSecret = "relay-test-secret-3b9d"
)

// harness is a fresh database, a local Pusher server that clients connect to
// directly, and a fault switch in front of that server's HTTP API, which the
// relay and the senders publish through: Pusher's API can fail while the
// clients' connections stay up, as in a partial outage or an exhausted quota.
type harness struct {
	t      *testing.T
	pool   *pgxpool.Pool
	dbURL  string
	pusher *pusherlocal.Server
	faults *faultSwitch
	// api publishes through the fault switch, as chatwire does.
	api  *realtime.Pusher
	logs *syncBuffer
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	pool, dbURL := dbtest.NewPool(t)
	return newHarnessOn(t, pool, dbURL)
}

// newHarnessOn is newHarness on a database of the caller's.
func newHarnessOn(t *testing.T, pool *pgxpool.Pool, dbURL string) *harness {
	t.Helper()
	srv, err := pusherlocal.New(pusherlocal.Config{AppID: pusherAppID, Key: pusherKey, Secret: pusherSecret})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	faults := newFaultSwitch(t, srv.Addr())
	h := &harness{t: t, pool: pool, dbURL: dbURL, pusher: srv, faults: faults, logs: &syncBuffer{}}
	h.api = realtime.New(h.pusherConfig(), nil)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", h.logs.String())
		}
		if strings.Contains(h.logs.String(), pusherSecret) {
			t.Errorf("the Pusher secret appears in the logs")
		}
	})
	return h
}

// pusherConfig is the app's Pusher configuration, through the fault switch.
func (h *harness) pusherConfig() config.Pusher {
	return config.Pusher{AppID: pusherAppID, Key: pusherKey, Secret: pusherSecret, Host: h.faults.addr, UseTLS: false}
}

func (h *harness) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(h.logs, nil))
}

// startRelay runs a relay on a pool of its own until the test ends or the
// returned stop is called; stop waits for Run to return.
func (h *harness) startRelay(opts relay.Options) (*relay.Relay, func()) {
	h.t.Helper()
	return h.startRelayWith(h.api, opts)
}

// startRelayWith is startRelay publishing through publisher.
func (h *harness) startRelayWith(publisher chat.Publisher, opts relay.Options) (*relay.Relay, func()) {
	h.t.Helper()
	pool, err := store.Open(context.Background(), h.dbURL)
	if err != nil {
		h.t.Fatal(err)
	}
	r := relay.New(store.New(pool), publisher, h.logger(), opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				h.t.Errorf("relay: %v", err)
			}
			pool.Close()
		})
	}
	h.t.Cleanup(stop)
	return r, stop
}

// legacyMessage inserts a message with plain SQL, as a legacy writer does,
// with no webhook and no cron behind it, and returns its id.
func (h *harness) legacyMessage(from, to, body string) string {
	h.t.Helper()
	var id string
	if err := h.pool.QueryRow(context.Background(),
		`INSERT INTO messages (sender_id, receiver_id, body) VALUES ($1, $2, $3) RETURNING id::text`,
		from, to, body).Scan(&id); err != nil {
		h.t.Fatal(err)
	}
	return id
}

func (h *harness) pending() int {
	h.t.Helper()
	var n int
	if err := h.pool.QueryRow(context.Background(), `SELECT count(*) FROM events_pending`).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// waitFor polls cond every 20 ms for up to d (a window no run outlasts, not a
// measurement) and fails the test if it never holds.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// faultSwitch is a reverse proxy in front of the real Pusher server's HTTP
// API that can answer for it: 503, 429, a refused connection, or a stall.
type faultSwitch struct {
	addr  string
	mode  atomic.Value // faultMode
	calls atomic.Int64 // requests answered with a fault
	// stalled counts requests held by the stall mode right now.
	stalled atomic.Int64
	release chan struct{}
	mu      sync.Mutex
}

type faultMode string

const (
	passThrough faultMode = "pass"
	answer503   faultMode = "503"
	answer429   faultMode = "429"
	refuse      faultMode = "refuse" // the connection closes without an answer
	stall       faultMode = "stall"  // held until released, then passed through
)

func newFaultSwitch(t *testing.T, target string) *faultSwitch {
	t.Helper()
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
	f := &faultSwitch{release: make(chan struct{})}
	f.mode.Store(passThrough)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch f.mode.Load().(faultMode) {
		case answer503:
			f.calls.Add(1)
			http.Error(w, `{"error":"service unavailable"}`, http.StatusServiceUnavailable)
			return
		case answer429:
			f.calls.Add(1)
			http.Error(w, `{"error":"quota exceeded"}`, http.StatusTooManyRequests)
			return
		case refuse:
			f.calls.Add(1)
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
			return
		case stall:
			f.calls.Add(1)
			// Read the body first: only then does the server watch the
			// connection and cancel the request when the caller dies.
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			f.stalled.Add(1)
			f.mu.Lock()
			release := f.release
			f.mu.Unlock()
			select {
			case <-release:
				f.stalled.Add(-1)
			case <-r.Context().Done():
				// The caller is gone (killed, or timed out): Pusher never
				// sees this request.
				f.stalled.Add(-1)
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { f.set(passThrough) }) // first: a held request would block Close
	f.addr = strings.TrimPrefix(srv.URL, "http://")
	return f
}

// set switches the mode; leaving stall releases the held requests.
func (f *faultSwitch) set(m faultMode) {
	if f.mode.Swap(m) == stall && m != stall {
		f.mu.Lock()
		close(f.release)
		f.release = make(chan struct{})
		f.mu.Unlock()
	}
}

// subscriber is a Pusher-protocol client connected straight to the local
// server (never through the fault switch): it subscribes to private
// channels, signing them with the app's secret as /api/pusher/auth does, and
// collects the events.
type subscriber struct {
	t        *testing.T
	conn     *websocket.Conn
	socketID string
	signer   *realtime.Pusher

	mu     sync.Mutex
	events []pusherEvent
	closed bool
}

type pusherEvent struct {
	Event   string `json:"event"`
	Channel string `json:"channel"`
	Data    string `json:"data"`
}

func (h *harness) subscriber(channels ...string) *subscriber {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	conn, _, err := websocket.Dial(ctx, "ws://"+h.pusher.Addr()+"/app/"+pusherKey+"?protocol=7&client=go-test", nil)
	if err != nil {
		cancel()
		h.t.Fatalf("dial pusher: %v", err)
	}
	conn.SetReadLimit(1 << 20)
	s := &subscriber{t: h.t, conn: conn, signer: h.api}
	var established pusherEvent
	if err := readJSON(ctx, conn, &established); err != nil || established.Event != "pusher:connection_established" {
		h.t.Fatalf("connection_established: %+v %v", established, err)
	}
	var info struct {
		SocketID string `json:"socket_id"`
	}
	_ = json.Unmarshal([]byte(established.Data), &info)
	s.socketID = info.SocketID
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			var e pusherEvent
			if err := readJSON(ctx, conn, &e); err != nil {
				s.mu.Lock()
				s.closed = true
				s.mu.Unlock()
				return
			}
			s.mu.Lock()
			s.events = append(s.events, e)
			s.mu.Unlock()
		}
	}()
	h.t.Cleanup(func() {
		cancel()
		_ = conn.CloseNow()
		<-done
	})
	for _, ch := range channels {
		s.subscribe(ch)
	}
	return s
}

func readJSON(ctx context.Context, conn *websocket.Conn, v any) error {
	_, raw, err := conn.Read(ctx)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

func (s *subscriber) subscribe(channel string) {
	s.t.Helper()
	signed, err := s.signer.AuthorizeChannel([]byte(url.Values{"socket_id": {s.socketID}, "channel_name": {channel}}.Encode()), nil)
	if err != nil {
		s.t.Fatal(err)
	}
	var auth struct {
		Auth string `json:"auth"`
	}
	if err := json.Unmarshal(signed, &auth); err != nil {
		s.t.Fatal(err)
	}
	frame, _ := json.Marshal(map[string]any{"event": "pusher:subscribe", "data": map[string]any{"channel": channel, "auth": auth.Auth}})
	if err := s.conn.Write(context.Background(), websocket.MessageText, frame); err != nil {
		s.t.Fatal(err)
	}
	waitFor(s.t, 10*time.Second, "subscription to "+channel, func() bool {
		for _, e := range s.snapshot() {
			if e.Event == "pusher_internal:subscription_succeeded" && e.Channel == channel {
				return true
			}
		}
		return false
	})
}

func (s *subscriber) snapshot() []pusherEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]pusherEvent(nil), s.events...)
}

// connected reports whether the connection never dropped.
func (s *subscriber) connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closed
}

// messages returns, per channel, the ids of the new-message events received,
// in arrival order.
func (s *subscriber) messages() map[string][]string {
	got := map[string][]string{}
	for _, e := range s.snapshot() {
		if e.Event != "new-message" {
			continue
		}
		var data struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(e.Data), &data); err != nil {
			s.t.Errorf("new-message data: %v", err)
			continue
		}
		got[e.Channel] = append(got[e.Channel], data.ID)
	}
	return got
}

// waitForMessages waits until every id arrived (up to d, a generous window),
// then checks that none arrived twice and, per channel, that they arrived in
// the order given.
func (s *subscriber) waitForMessages(d time.Duration, want map[string][]string) {
	s.t.Helper()
	count := func() int {
		n := 0
		for _, ids := range s.messages() {
			n += len(ids)
		}
		return n
	}
	total := 0
	for _, ids := range want {
		total += len(ids)
	}
	waitFor(s.t, d, fmt.Sprintf("%d messages", total), func() bool { return count() >= total })
	got := s.messages()
	for ch, ids := range want {
		if fmt.Sprint(got[ch]) != fmt.Sprint(ids) {
			s.t.Errorf("%s received %v, want %v (each once, in order)", ch, got[ch], ids)
		}
	}
	if n := count(); n != total {
		t := s.t
		t.Errorf("received %d new-message events, want %d", n, total)
	}
}

// syncBuffer collects log lines from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// user returns a chat user for the domain service.
func user(id string) chat.User { return chat.User{ID: id, Name: strings.ToUpper(id[:1]) + id[1:]} }
