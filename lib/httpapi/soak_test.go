package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/store"
)

// Soak tolerances: after the load stops, the process must come back to its
// starting level within soakSettle.
const (
	// Goroutines: a few may belong to the runtime or to connections still
	// closing; a leak per request or per subscriber would be thousands.
	soakGoroutineSlack = 10
	// HeapInuse after two GCs: the race detector and the allocator keep some
	// spans; a leak of a few hundred bytes per request over a
	// 90 s run (about 20,000 requests under -race) would exceed this.
	soakHeapSlack = 16 << 20
	// Postgres connections of the test database: the pool closes idle ones
	// after pool_max_conn_idle_time, so the count returns to where it was.
	soakSettle = 20 * time.Second
)

// TestSoak runs a bounded mixed load (sends, polls, history, reads, typing,
// channel auth, subscribers, cron) for CHATWIRE_SOAK_DURATION (default 90 s)
// and then checks that goroutines, the database connections and the heap
// return to their starting level, and that every acknowledged message is
// stored once. It runs only with CHATWIRE_SOAK=1:
//
//	CHATWIRE_SOAK=1 go test -race -run TestSoak -timeout 10m -v ./lib/httpapi/
func TestSoak(t *testing.T) {
	if os.Getenv("CHATWIRE_SOAK") != "1" {
		t.Skip("set CHATWIRE_SOAK=1 to run the soak test")
	}
	duration := 90 * time.Second
	if v := os.Getenv("CHATWIRE_SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("CHATWIRE_SOAK_DURATION=%q: want a duration such as 90s", v)
		}
		duration = d
	}

	dbURL := dbtest.NewDatabase(t)
	u, _ := url.Parse(dbURL)
	q := u.Query()
	q.Set("pool_max_conns", "4")
	q.Set("pool_max_conn_idle_time", "3s")
	q.Set("pool_health_check_period", "1s") // when idle connections are closed
	u.RawQuery = q.Encode()
	pool, err := store.Open(t.Context(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	// A separate observer connection, not counted against the app's pool.
	observer, err := pgxpool.New(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(observer.Close)

	logs := &secretScanner{}
	r := newRelApp(t, relOptions{pool: pool, dbURL: u.String(), env: map[string]string{"SEND_RATE_LIMIT": "off"},
		chat: chat.Options{Outbox: chat.OutboxOptions{CronMinAge: time.Second}}, logTo: logs})
	users := []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7"}
	room := r.do("POST", "/api/rooms", "u0", map[string]any{"name": "soak"}).expect(t, http.StatusCreated).field("room", "id").(string)
	for _, u := range users[1:] {
		r.do("POST", "/api/rooms/join", u, map[string]any{"room_id": room}).expect(t, http.StatusOK)
	}
	baseline := soakLevels(t, observer)
	t.Logf("baseline: %s", baseline)

	var (
		wg       sync.WaitGroup
		requests atomic.Int64
		mu       sync.Mutex
		acked    []string
		failures = map[string]int{}
	)
	fail := func(what string) {
		mu.Lock()
		failures[what]++
		mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	loop := func(worker func(rng *rand.Rand)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(rand.Uint64(), 0))
			for ctx.Err() == nil {
				worker(rng)
				requests.Add(1)
			}
		}()
	}
	call := func(method, path, user string, body any) (response, bool) {
		res, err := r.tryDo(method, path, user, body)
		if err != nil {
			fail(err.Error())
			return res, false
		}
		if res.status >= 500 {
			fail(fmt.Sprintf("%s %s: %d", method, path, res.status))
			return res, false
		}
		return res, true
	}
	for range 4 { // senders, 1:1 and room
		loop(func(rng *rand.Rand) {
			from, to := users[rng.IntN(len(users))], users[rng.IntN(len(users))]
			body := map[string]any{"body": "soak", "client_id": fmt.Sprintf("c%d", rng.Uint64())}
			if from == to {
				body["room_id"] = room
			} else {
				body["to"] = to
			}
			if res, ok := call("POST", "/api/messages/send", from, body); ok && res.status == http.StatusCreated {
				mu.Lock()
				acked = append(acked, sprint(res.field("message", "id")))
				mu.Unlock()
			}
		})
	}
	for _, u := range users[:3] { // pollers, as a client falls back to polling
		loop(func(rng *rand.Rand) {
			cursor := ""
			for ctx.Err() == nil {
				res, ok := call("GET", "/api/messages/poll?cursor="+url.QueryEscape(cursor), u, nil)
				if ok && res.status == http.StatusOK {
					cursor = res.field("cursor").(string)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	loop(func(rng *rand.Rand) { // everything else a page does
		u, other := users[rng.IntN(len(users))], users[rng.IntN(len(users))]
		switch rng.IntN(6) {
		case 0:
			call("GET", "/api/messages/history?with="+other, u, nil)
		case 1:
			call("POST", "/api/messages/read", u, map[string]any{"with": other})
		case 2:
			call("POST", "/api/typing", u, map[string]any{"room_id": room, "typing": rng.IntN(2) == 0})
		case 3:
			call("POST", "/api/pusher/auth", u, url.Values{"socket_id": {"1.2"}, "channel_name": {"private-room-" + room}})
		case 4:
			call("GET", "/api/presence?user_ids=u1,u2,u3", u, nil)
		case 5:
			call("GET", "/api/rooms", u, nil)
		}
	})
	loop(func(rng *rand.Rand) { // the cron, now and then
		if _, ok := call("GET", "/api/cron/outbox", "", nil); !ok {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	})
	// Subscribers come and go, as browser tabs do.
	loop(func(rng *rand.Rand) {
		s := r.subscriberFor(ctx, users[rng.IntN(len(users))])
		if s == nil {
			return
		}
		s.subscribeQuiet("private-room-" + room)
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(500+rng.IntN(1500)) * time.Millisecond):
		}
		s.close()
	})

	<-ctx.Done()
	wg.Wait()
	t.Logf("%d requests, %d messages acknowledged in %v", requests.Load(), len(acked), duration)
	for what, n := range failures {
		t.Errorf("%d × %s", n, what)
	}
	if n := logs.lines.Load(); n < requests.Load() {
		t.Errorf("%d log lines for %d requests: the access log is missing", n, requests.Load())
	}
	if logs.leaked.Load() {
		t.Errorf("a secret or bearer token appeared in the logs")
	}
	if len(acked) == 0 {
		t.Fatal("no message was acknowledged")
	}

	// Settle: idle HTTP connections and pool connections close.
	http.DefaultClient.CloseIdleConnections()
	var after levels
	deadline := time.Now().Add(soakSettle)
	for {
		after = soakLevels(t, observer)
		if after.within(baseline) || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("after: %s", after)
	if !after.within(baseline) {
		t.Errorf("did not return to the starting level within %v:\nbefore %s\nafter  %s", soakSettle, baseline, after)
		if after.goroutines > baseline.goroutines+soakGoroutineSlack {
			buf := make([]byte, 1<<20)
			t.Logf("goroutines:\n%s", buf[:runtime.Stack(buf, true)])
		}
	}
	expectLedger(t, pool, acked)
}

type levels struct {
	goroutines int
	heapInuse  uint64
	dbConns    int
}

func (l levels) String() string {
	return fmt.Sprintf("%d goroutines, %.1f MiB heap in use, %d database connections", l.goroutines, float64(l.heapInuse)/(1<<20), l.dbConns)
}

func (l levels) within(base levels) bool {
	return l.goroutines <= base.goroutines+soakGoroutineSlack &&
		l.heapInuse <= base.heapInuse+soakHeapSlack &&
		l.dbConns <= base.dbConns
}

// soakLevels measures the process and the app's database connections (the
// observer's own is left out).
func soakLevels(t *testing.T, observer *pgxpool.Pool) levels {
	t.Helper()
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var conns int
	err := observer.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`).Scan(&conns)
	if err != nil {
		t.Fatal(err)
	}
	return levels{goroutines: runtime.NumGoroutine(), heapInuse: ms.HeapInuse, dbConns: conns}
}

// tryDo is app.do for load goroutines: a transport error is returned, not
// fatal.
func (a *app) tryDo(method, path, user string, body any) (response, error) {
	var reader io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case url.Values:
		reader = strings.NewReader(b.Encode())
		contentType = "application/x-www-form-urlencoded"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, a.url+path, reader)
	if err != nil {
		return response{}, err
	}
	if reader != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if user != "" {
		tok, err := signToken(user)
		if err != nil {
			return response{}, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	} else if strings.HasPrefix(path, "/api/cron/") {
		req.Header.Set("Authorization", "Bearer "+cronSecret)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	r := response{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			return r, fmt.Errorf("%s %s: answer is not a JSON object", method, path)
		}
	}
	return r, nil
}

// subscriberFor is app.subscriber for load goroutines: nil when the
// connection fails, and closed by the caller.
func (a *app) subscriberFor(ctx context.Context, user string) *subscriber {
	sctx, cancel := context.WithCancel(ctx)
	conn, _, err := websocket.Dial(sctx, "ws://"+a.pusher.Addr()+"/app/"+pusherKey+"?protocol=7&client=go-soak", nil)
	if err != nil {
		cancel()
		return nil
	}
	s := &subscriber{t: a.t, a: a, user: user, conn: conn, events: make(chan pusherEvent, 100), cancel: cancel, done: make(chan struct{})}
	var established pusherEvent
	if err := readJSON(sctx, conn, &established); err != nil || established.Event != "pusher:connection_established" {
		cancel()
		_ = conn.CloseNow()
		return nil
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
			if err := readJSON(sctx, conn, &e); err != nil {
				return
			}
			select {
			case s.events <- e:
			default: // nobody reads a soak subscriber's events
			}
		}
	}()
	return s
}

// subscribeQuiet signs and sends a subscription without waiting for or
// checking the answer.
func (s *subscriber) subscribeQuiet(channel string) {
	res, err := s.a.tryDo("POST", "/api/pusher/auth", s.user, url.Values{"socket_id": {s.socketID}, "channel_name": {channel}})
	if err != nil || res.status != http.StatusOK {
		return
	}
	frame, _ := json.Marshal(map[string]any{"event": "pusher:subscribe", "data": map[string]any{"channel": channel, "auth": res.body["auth"]}})
	_ = s.conn.Write(context.Background(), websocket.MessageText, frame)
}

// secretScanner takes the soak's log lines one by one, checking each for
// secrets and keeping none, so a long run does not hold its whole log.
type secretScanner struct {
	lines  atomic.Int64
	leaked atomic.Bool
}

func (s *secretScanner) Write(p []byte) (int, error) {
	s.lines.Add(1)
	for _, secret := range []string{jwtSecret, pusherSecret, dbWebhookSecret, cronSecret, "Bearer ", "eyJ"} {
		if bytes.Contains(p, []byte(secret)) {
			s.leaked.Store(true)
		}
	}
	return len(p), nil
}
