package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/auth"
	"github.com/chatwire/chatwire/lib/config"
	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/httpapi"
	"github.com/chatwire/chatwire/lib/pusherlocal"
	"github.com/chatwire/chatwire/lib/storage"
	"github.com/chatwire/chatwire/lib/storagetest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const (
	jwtSecret    = "test-jwt-secret-0123456789abcdef-0123"
	pusherAppID  = "4242"
	pusherKey    = "test-key"
	pusherSecret = "test-pusher-secret"
)

// app is chatwire's whole HTTP surface on a fresh database, publishing to a
// local Pusher-protocol server through the real pusher-http-go.
type app struct {
	t      testing.TB
	url    string
	pool   *pgxpool.Pool
	pusher *pusherlocal.Server
	logs   *syncBuffer
	// storage is the S3-compatible server's configuration, when started.
	storage storage.Config
}

type appOptions struct {
	realtimeDisabled bool
	corsOrigins      string // CORS_ALLOWED_ORIGINS
	// storage starts a real S3-compatible server (versitygw) for files.
	storage      bool
	storageClock func() time.Time
	env          map[string]string // more variables
}

func newApp(t testing.TB, opts ...appOptions) *app {
	t.Helper()
	var o appOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	pool, dbURL := dbtest.NewPool(t)
	a := &app{t: t, pool: pool, logs: &syncBuffer{}}
	env := map[string]string{
		"DATABASE_URL":         dbURL,
		"AUTH_JWT_SECRET":      jwtSecret,
		"CORS_ALLOWED_ORIGINS": o.corsOrigins,
	}
	if o.realtimeDisabled {
		env["REALTIME_DISABLED"] = "true"
	} else {
		srv, err := pusherlocal.New(pusherlocal.Config{AppID: pusherAppID, Key: pusherKey, Secret: pusherSecret})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Start("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.Close() })
		a.pusher = srv
		env["PUSHER_APP_ID"], env["PUSHER_KEY"], env["PUSHER_SECRET"] = pusherAppID, pusherKey, pusherSecret
		env["PUSHER_HOST"], env["PUSHER_USE_TLS"] = srv.Addr(), "false"
	}
	if o.storage {
		sc := storagetest.Start(t)
		a.storage = sc
		env["STORAGE_ENDPOINT"], env["STORAGE_REGION"], env["STORAGE_BUCKET"] = sc.Endpoint, sc.Region, sc.Bucket
		env["STORAGE_ACCESS_KEY_ID"], env["STORAGE_SECRET_ACCESS_KEY"] = sc.AccessKeyID, sc.SecretAccessKey
		env["STORAGE_FORCE_PATH_STYLE"] = "true"
	}
	for k, v := range o.env {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	deps, err := httpapi.NewDeps(cfg, pool, httpapi.NewLogger(a.logs), httpapi.Options{StorageClock: o.storageClock})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.NewHandler(deps))
	t.Cleanup(srv.Close)
	a.url = srv.URL
	return a
}

func token(t testing.TB, userID, name string) string {
	t.Helper()
	tok, err := auth.SignHS256(jwtSecret, auth.User{ID: userID, Name: name}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// do sends a request as the user (no user: no Authorization header). A body
// that is a string is sent verbatim, anything else as JSON.
func (a *app) do(method, path, user string, body any, headers ...string) response {
	a.t.Helper()
	var reader io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	case url.Values:
		reader = strings.NewReader(b.Encode())
		contentType = "application/x-www-form-urlencoded"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, a.url+path, reader)
	if err != nil {
		a.t.Fatal(err)
	}
	if reader != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+token(a.t, user, strings.ToUpper(user[:1])+user[1:]))
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := response{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			a.t.Fatalf("%s %s: answer is not a JSON object: %s", method, path, raw)
		}
	}
	return r
}

// expect fails the test unless the answer has the status.
func (r response) expect(t testing.TB, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.raw)
	}
	return r
}

// field walks the decoded body: r.field("message", "id").
func (r response) field(path ...string) any {
	var v any = r.body
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// subscriber is a minimal Pusher protocol client: it connects to the local
// server, signs subscriptions through /api/pusher/auth and collects events.
type subscriber struct {
	t        testing.TB
	a        *app
	user     string
	conn     *websocket.Conn
	socketID string
	events   chan pusherEvent
	cancel   context.CancelFunc
	done     chan struct{}
}

type pusherEvent struct {
	Event   string `json:"event"`
	Channel string `json:"channel"`
	Data    string `json:"data"`
}

func (a *app) subscriber(user string) *subscriber {
	a.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	conn, _, err := websocket.Dial(ctx, "ws://"+a.pusher.Addr()+"/app/"+pusherKey+"?protocol=7&client=go-test", nil)
	if err != nil {
		cancel()
		a.t.Fatalf("dial pusher: %v", err)
	}
	s := &subscriber{t: a.t, a: a, user: user, conn: conn, events: make(chan pusherEvent, 100), cancel: cancel, done: make(chan struct{})}
	var established pusherEvent
	if err := readJSON(ctx, conn, &established); err != nil || established.Event != "pusher:connection_established" {
		a.t.Fatalf("connection_established: %+v %v", established, err)
	}
	var info struct {
		SocketID string `json:"socket_id"`
	}
	_ = json.Unmarshal([]byte(established.Data), &info)
	s.socketID = info.SocketID
	go func() {
		defer close(s.done)
		for {
			var e pusherEvent
			if err := readJSON(ctx, conn, &e); err != nil {
				return
			}
			s.events <- e
		}
	}()
	a.t.Cleanup(s.close)
	return s
}

func readJSON(ctx context.Context, conn *websocket.Conn, v any) error {
	_, raw, err := conn.Read(ctx)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

func (s *subscriber) close() {
	s.cancel()
	_ = s.conn.CloseNow()
	<-s.done
}

// subscribe signs the channel through chatwire and subscribes; it returns
// chatwire's answer to the auth request.
func (s *subscriber) subscribe(channel string) response {
	s.t.Helper()
	res := s.a.do("POST", "/api/pusher/auth", s.user, url.Values{"socket_id": {s.socketID}, "channel_name": {channel}})
	if res.status != http.StatusOK {
		return res
	}
	data := map[string]any{"channel": channel, "auth": res.body["auth"]}
	if cd, ok := res.body["channel_data"]; ok {
		data["channel_data"] = cd
	}
	frame, _ := json.Marshal(map[string]any{"event": "pusher:subscribe", "data": data})
	if err := s.conn.Write(context.Background(), websocket.MessageText, frame); err != nil {
		s.t.Fatal(err)
	}
	s.expectEvent("pusher_internal:subscription_succeeded", channel)
	return res
}

// expectEvent waits up to 2 s for an event, skipping others.
func (s *subscriber) expectEvent(name, channel string) pusherEvent {
	s.t.Helper()
	timeout := time.After(2 * time.Second)
	for {
		select {
		case e := <-s.events:
			if e.Event == name && e.Channel == channel {
				return e
			}
			if e.Event == "pusher:subscription_error" || e.Event == "pusher:error" {
				s.t.Fatalf("%s: %s", e.Event, e.Data)
			}
		case <-timeout:
			s.t.Fatalf("no %s on %s within 2 s", name, channel)
		}
	}
}

// expectNoEvent checks that nothing named name arrives within d.
func (s *subscriber) expectNoEvent(name string, d time.Duration) {
	s.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case e := <-s.events:
			if e.Event == name {
				s.t.Fatalf("unexpected %s on %s: %s", name, e.Channel, e.Data)
			}
		case <-timeout:
			return
		}
	}
}

// syncBuffer collects log lines from concurrent handlers.
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

func decodeData(t *testing.T, e pusherEvent) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(e.Data), &m); err != nil {
		t.Fatalf("event data is not JSON: %s", e.Data)
	}
	return m
}

func sprint(v any) string { return fmt.Sprint(v) }

// pollUntil polls as the user from the cursor, as a client does, until at
// least want events arrived or a minute passed. Poll may hold events back
// while any older transaction in the cluster is still open (other tests'
// CREATE DATABASE and bulk seeds hold it for seconds on a busy machine), so
// one immediate poll is not enough. It returns the events and the cursor to
// continue from.
func (a *app) pollUntil(user, cursor string, want int) ([]map[string]any, string) {
	a.t.Helper()
	return a.pollFor(user, cursor, want, time.Minute)
}

// pollQuiet polls as the user from the cursor for 10 s and returns whatever
// arrived: for checks that something does not arrive.
func (a *app) pollQuiet(user, cursor string) []map[string]any {
	a.t.Helper()
	events, _ := a.pollFor(user, cursor, math.MaxInt, 10*time.Second)
	return events
}

func (a *app) pollFor(user, cursor string, want int, window time.Duration) ([]map[string]any, string) {
	a.t.Helper()
	var events []map[string]any
	deadline := time.Now().Add(window)
	for {
		res := a.do("GET", "/api/messages/poll?cursor="+url.QueryEscape(cursor), user, nil).expect(a.t, http.StatusOK)
		for _, e := range res.field("events").([]any) {
			events = append(events, e.(map[string]any))
		}
		cursor = res.field("cursor").(string)
		if len(events) >= want || time.Now().After(deadline) {
			return events, cursor
		}
		time.Sleep(50 * time.Millisecond)
	}
}
