package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/auth"
	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/config"
	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/httpapi"
	"github.com/chatwire/chatwire/lib/pusherlocal"
	"github.com/chatwire/chatwire/lib/store"
)

// Modes of pusherProxy.
const (
	proxyPass     = iota // forward as is
	proxySlow            // forward, then hold the answer back for delay
	proxyFail5xx         // answer 503 without forwarding
	proxyBlackout        // hold the request for delay, then drop it unforwarded
)

// pusherProxy sits between chatwire's pusher-http-go client and pusherlocal
// and misbehaves on demand, the way a Pusher cluster under trouble does.
// Subscribers connect to pusherlocal directly, so what they receive is what
// Pusher really accepted.
type pusherProxy struct {
	mode  atomic.Int32
	delay time.Duration
	calls atomic.Int64
	srv   *httptest.Server
}

func newPusherProxy(t testing.TB, upstream string, delay time.Duration) *pusherProxy {
	t.Helper()
	p := &pusherProxy{delay: delay}
	target := &url.URL{Scheme: "http", Host: upstream}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = func(res *http.Response) error {
		if p.mode.Load() == proxySlow {
			select {
			case <-time.After(p.delay):
			case <-res.Request.Context().Done():
				return res.Request.Context().Err()
			}
		}
		return nil
	}
	rp.ErrorLog = log.New(io.Discard, "", 0) // cancelled calls are the point
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.calls.Add(1)
		switch p.mode.Load() {
		case proxyFail5xx:
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("upstream overloaded"))
			return
		case proxyBlackout:
			select {
			case <-time.After(p.delay):
			case <-r.Context().Done():
			}
			panic(http.ErrAbortHandler) // the connection drops, nothing was forwarded
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *pusherProxy) addr() string { return strings.TrimPrefix(p.srv.URL, "http://") }

// relOptions tune newRelApp.
type relOptions struct {
	dbURL string        // "" = a fresh dbtest database
	pool  *pgxpool.Pool // with dbURL: the app's own pool
	env   map[string]string
	chat  chat.Options
	// proxyDelay, when set, puts a pusherProxy with that delay between
	// chatwire and pusherlocal.
	proxyDelay time.Duration
	// logTo, when set, receives the app's log instead of the in-memory
	// buffer (a long run would keep every line).
	logTo io.Writer
}

// relApp is a faultApp built for the reliability tests: any database, any
// environment, and optionally a misbehaving proxy in front of Pusher.
type relApp struct {
	*faultApp
	proxy *pusherProxy
}

func newRelApp(t *testing.T, o relOptions) *relApp {
	t.Helper()
	pool, dbURL := o.pool, o.dbURL
	if pool == nil {
		pool, dbURL = dbtest.NewPool(t)
	}
	web := http.NewServeMux()
	srv := httptest.NewServer(web)
	t.Cleanup(srv.Close)
	f := &faultApp{
		app:       &app{t: t, url: srv.URL, pool: pool, logs: &syncBuffer{}},
		pusherCfg: pusherlocal.Config{AppID: pusherAppID, Key: pusherKey, Secret: pusherSecret},
	}
	if err := f.startPusher("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	r := &relApp{faultApp: f}
	pusherHost := f.addr
	if o.proxyDelay > 0 {
		r.proxy = newPusherProxy(t, f.addr, o.proxyDelay)
		pusherHost = r.proxy.addr()
	}
	env := map[string]string{
		"DATABASE_URL":      dbURL,
		"AUTH_JWT_SECRET":   jwtSecret,
		"PUSHER_APP_ID":     pusherAppID,
		"PUSHER_KEY":        pusherKey,
		"PUSHER_SECRET":     pusherSecret,
		"PUSHER_HOST":       pusherHost,
		"PUSHER_USE_TLS":    "false",
		"DB_WEBHOOK_SECRET": dbWebhookSecret,
		"CRON_SECRET":       cronSecret,
	}
	for k, v := range o.env {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var logTo io.Writer = f.logs
	if o.logTo != nil {
		logTo = o.logTo
	}
	deps, err := httpapi.NewDeps(cfg, pool, httpapi.NewLogger(logTo), httpapi.Options{Chat: o.chat})
	if err != nil {
		t.Fatal(err)
	}
	web.Handle("/", httpapi.NewHandler(deps))
	t.Cleanup(func() {
		for _, secret := range []string{dbWebhookSecret, cronSecret, pusherSecret, jwtSecret} {
			if strings.Contains(f.logs.String(), secret) {
				t.Errorf("a secret appears in the logs")
			}
		}
	})
	return r
}

// cursorOf is the user's current poll cursor.
func (a *app) cursorOf(user string) string {
	a.t.Helper()
	return a.do("GET", "/api/messages/poll", user, nil).expect(a.t, http.StatusOK).field("cursor").(string)
}

// expectPolled polls as the user from cursor until every message id was
// handed out in a new-message event, and fails the test otherwise. It also
// fails if poll hands out one message's new-message event twice: the log
// holds one event per message.
func (a *app) expectPolled(user, cursor string, ids []string) {
	a.t.Helper()
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	seen := map[string]int{}
	// Poll hands out an event once every older transaction of the whole
	// cluster has ended: another test binary's bulk insert may hold that
	// back for tens of seconds (lib/store's xminPatience).
	deadline := time.Now().Add(2 * time.Minute)
	for {
		res := a.do("GET", "/api/messages/poll?limit=500&cursor="+url.QueryEscape(cursor), user, nil).expect(a.t, http.StatusOK)
		for _, e := range res.field("events").([]any) {
			ev := e.(map[string]any)
			if ev["event"] == "new-message" {
				seen[sprint(ev["data"].(map[string]any)["id"])]++
			}
		}
		cursor = res.field("cursor").(string)
		missing := 0
		for id := range want {
			if seen[id] == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("poll handed out %d of %d acknowledged messages within 2 minutes", len(want)-missing, len(want))
		}
		if res.field("more") != true {
			time.Sleep(50 * time.Millisecond)
		}
	}
	for id, n := range seen {
		if n > 1 {
			a.t.Errorf("poll handed out new-message %s %d times", id, n)
		}
	}
}

// expectLedger checks the database against the acknowledged messages: each
// is stored exactly once with its new-message event, no message is stored
// that was not acknowledged, and no message event lacks its message.
func expectLedger(t *testing.T, pool *pgxpool.Pool, acked []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	want := map[string]bool{}
	for _, id := range acked {
		want[id] = true
	}
	rows, err := pool.Query(ctx, `SELECT m.id::text, count(e.id)
FROM messages m LEFT JOIN events e ON e.event = 'new-message' AND e.data ->> 'id' = m.id::text
GROUP BY m.id`)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for rows.Next() {
		var (
			id     string
			events int
		)
		if err := rows.Scan(&id, &events); err != nil {
			t.Fatal(err)
		}
		if stored[id] {
			t.Errorf("message %s stored twice", id)
		}
		stored[id] = true
		if events != 1 {
			t.Errorf("message %s has %d new-message events, want 1", id, events)
		}
		if !want[id] {
			t.Errorf("message %s is stored but was never acknowledged", id)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for id := range want {
		if !stored[id] {
			t.Errorf("acknowledged message %s is not stored", id)
		}
	}
	var orphans int
	err = pool.QueryRow(ctx, `SELECT count(*) FROM events e
WHERE e.event IN ('new-message', 'message-notification')
  AND NOT EXISTS (SELECT 1 FROM messages m
                  WHERE m.id::text = coalesce(e.data ->> 'id', e.data ->> 'message_id'))`).Scan(&orphans)
	if err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Errorf("%d message events without their message", orphans)
	}
}

// receivedIDs drains new-message events on channel for d and counts them by
// message id.
func (s *subscriber) receivedIDs(channel string, d time.Duration) map[string]int {
	got := map[string]int{}
	timeout := time.After(d)
	for {
		select {
		case e := <-s.events:
			if e.Event == "new-message" && e.Channel == channel {
				var data struct {
					ID string `json:"id"`
				}
				if err := jsonUnmarshal(e.Data, &data); err == nil {
					got[data.ID]++
				}
			}
		case <-timeout:
			return got
		}
	}
}

// Pusher accepts the trigger but answers after the publish deadline: send
// still answers 201 within about that deadline, with published:false, the
// subscriber already has the message, and the cron's redelivery makes it at
// most twice (clients de-duplicate by id).
func TestSlowPusherDoesNotHoldSendsPastThePublishDeadline(t *testing.T) {
	const publishTimeout = 300 * time.Millisecond
	r := newRelApp(t, relOptions{
		// Far longer than any send takes on a busy machine: a send that waited
		// for Pusher's answer would take this long.
		proxyDelay: 20 * time.Second,
		chat:       chat.Options{PublishTimeout: publishTimeout, Outbox: chat.OutboxOptions{CronMinAge: 50 * time.Millisecond}},
	})
	bob := r.subscriber("bob")
	bob.subscribe("private-chat-alice-bob")
	cursor := r.cursorOf("bob")
	r.proxy.mode.Store(proxySlow)

	var ids []string
	for i := range 3 {
		start := time.Now()
		res := r.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": fmt.Sprint("slow ", i)}).expect(t, http.StatusCreated)
		// The deadline plus the database round trips, not Pusher's 20 s.
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("send took %v with a slow Pusher, want about the publish deadline %v", took, publishTimeout)
		}
		if got := res.field("published"); got != false {
			t.Errorf("published = %v, want false: Pusher did not answer in time", got)
		}
		ids = append(ids, sprint(res.field("message", "id")))
	}
	r.expectPolled("bob", cursor, ids)

	r.proxy.mode.Store(proxyPass)
	time.Sleep(100 * time.Millisecond) // past CronMinAge
	cron := r.cron().expect(t, http.StatusOK)
	if got, want := cron.field("republished"), float64(6); got != want {
		t.Errorf("cron republished %v, want %v (new-message and message-notification of each)", got, want)
	}
	got := bob.receivedIDs("private-chat-alice-bob", 500*time.Millisecond)
	for _, id := range ids {
		if got[id] < 1 || got[id] > 2 {
			t.Errorf("bob received message %s %d times, want once or twice (at least once)", id, got[id])
		}
	}
	expectLedger(t, r.pool, ids)
}

// Pusher answers 5xx: nothing reaches subscribers, send answers 201
// published:false at once, poll serves the messages, the cron reports what
// remains, and once Pusher is healthy one cron run delivers each exactly once.
func TestPusherAnswering5xxLosesNothing(t *testing.T) {
	r := newRelApp(t, relOptions{
		proxyDelay: time.Second,
		chat:       chat.Options{Outbox: chat.OutboxOptions{CronMinAge: 50 * time.Millisecond}},
	})
	bob := r.subscriber("bob")
	bob.subscribe("private-chat-alice-bob")
	cursor := r.cursorOf("bob")
	r.proxy.mode.Store(proxyFail5xx)

	var ids []string
	for i := range 3 {
		res := r.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": fmt.Sprint("5xx ", i)}).expect(t, http.StatusCreated)
		if got := res.field("published"); got != false {
			t.Errorf("published = %v, want false", got)
		}
		ids = append(ids, sprint(res.field("message", "id")))
	}
	if r.proxy.calls.Load() == 0 {
		t.Fatal("no call reached the Pusher proxy")
	}
	r.expectPolled("bob", cursor, ids)
	time.Sleep(100 * time.Millisecond)
	if res := r.cron().expect(t, http.StatusServiceUnavailable); !strings.Contains(sprint(res.field("error", "message")), "6 remaining") {
		t.Errorf("cron while Pusher fails: %s, want 6 remaining", res.raw)
	}
	if got := bob.receivedIDs("private-chat-alice-bob", 200*time.Millisecond); len(got) != 0 {
		t.Errorf("bob received %v while Pusher answered 5xx", got)
	}

	r.proxy.mode.Store(proxyPass)
	if got, want := r.cron().expect(t, http.StatusOK).field("republished"), float64(6); got != want {
		t.Errorf("cron republished %v, want %v", got, want)
	}
	if got := r.cron().expect(t, http.StatusOK).field("republished"); got != float64(0) {
		t.Errorf("second cron republished %v, want 0", got)
	}
	got := bob.receivedIDs("private-chat-alice-bob", 500*time.Millisecond)
	for _, id := range ids {
		if got[id] != 1 {
			t.Errorf("bob received message %s %d times, want once", id, got[id])
		}
	}
	expectLedger(t, r.pool, ids)
}

// Two or more cron runs at once (Vercel retries, a manual run) republish each
// unpublished event exactly once between them.
func TestConcurrentCronRunsRepublishEachEventOnce(t *testing.T) {
	r := newRelApp(t, relOptions{
		proxyDelay: time.Second,
		env:        map[string]string{"SEND_RATE_LIMIT": "off"},
		chat:       chat.Options{Outbox: chat.OutboxOptions{CronMinAge: 50 * time.Millisecond}},
	})
	bob := r.subscriber("bob")
	bob.subscribe("private-chat-alice-bob")
	r.proxy.mode.Store(proxyFail5xx)
	var ids []string
	for i := range 30 {
		res := r.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": fmt.Sprint("m", i)}).expect(t, http.StatusCreated)
		ids = append(ids, sprint(res.field("message", "id")))
	}
	r.proxy.mode.Store(proxyPass)
	time.Sleep(100 * time.Millisecond)

	var (
		wg    sync.WaitGroup
		total atomic.Int64
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := r.cron()
			if res.status != http.StatusOK {
				t.Errorf("cron: %d %s", res.status, res.raw)
				return
			}
			total.Add(int64(res.field("republished").(float64)))
		}()
	}
	wg.Wait()
	if got, want := total.Load(), int64(60); got != want {
		t.Errorf("concurrent crons republished %d in all, want %d", got, want)
	}
	got := bob.receivedIDs("private-chat-alice-bob", time.Second)
	for _, id := range ids {
		if got[id] != 1 {
			t.Errorf("bob received message %s %d times, want once", id, got[id])
		}
	}
	expectLedger(t, r.pool, ids)
}

// A client gives up on a send that the server already committed (its Pusher
// call is slow), then retries with the same client_id from several tabs at
// once: one message, one new-message event, every answer carries its id.
func TestRetriedSendAfterAClientTimeoutStoresOneMessage(t *testing.T) {
	r := newRelApp(t, relOptions{
		proxyDelay: 3 * time.Second,
		chat:       chat.Options{PublishTimeout: 2 * time.Second, Outbox: chat.OutboxOptions{CronMinAge: 50 * time.Millisecond}},
	})
	bob := r.subscriber("bob")
	bob.subscribe("private-chat-alice-bob")
	cursor := r.cursorOf("bob")
	body := map[string]any{"to": "bob", "body": "are you there?", "client_id": "tab-42"}

	// The first attempt: the server commits, then waits on Pusher; the
	// client's own timeout cancels the request.
	r.proxy.mode.Store(proxySlow)
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	req, _ := http.NewRequestWithContext(ctx, "POST", r.url+"/api/messages/send", strings.NewReader(`{"to":"bob","body":"are you there?","client_id":"tab-42"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token(t, "alice", "Alice"))
	_, err := http.DefaultClient.Do(req)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("first attempt: err = %v, want the client's timeout", err)
	}
	var stored int
	pollCount := func() int {
		t.Helper()
		if err := r.pool.QueryRow(t.Context(), `SELECT count(*) FROM messages WHERE client_id = 'tab-42'`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		return stored
	}
	if pollCount() != 1 {
		t.Fatalf("the server had not committed the first attempt (%d rows): the test cannot tell a retry from a first send", stored)
	}

	r.proxy.mode.Store(proxyPass)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		ids      = map[string]bool{}
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := r.do("POST", "/api/messages/send", "alice", body)
			mu.Lock()
			defer mu.Unlock()
			statuses[res.status]++
			ids[sprint(res.field("message", "id"))] = true
		}()
	}
	wg.Wait()
	if statuses[http.StatusOK] != 8 {
		t.Errorf("retries answered %v, want 8 × 200 (the first attempt was stored)", statuses)
	}
	if len(ids) != 1 {
		t.Fatalf("retries returned %d distinct message ids, want 1: %v", len(ids), ids)
	}
	var id string
	for id = range ids {
	}
	var events int
	if err := r.pool.QueryRow(t.Context(), `SELECT count(*) FROM events WHERE event = 'new-message'`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if pollCount() != 1 || events != 1 {
		t.Errorf("stored %d messages and %d new-message events, want 1 and 1", stored, events)
	}
	r.expectPolled("bob", cursor, []string{id})
	// Whether or not the cancelled attempt's publish reached Pusher, the
	// cron makes sure it did; at least once, at most twice.
	time.Sleep(100 * time.Millisecond)
	r.cron().expect(t, http.StatusOK)
	if n := bob.receivedIDs("private-chat-alice-bob", 500*time.Millisecond)[id]; n < 1 || n > 2 {
		t.Errorf("bob received the message %d times, want once or twice", n)
	}
	expectLedger(t, r.pool, []string{id})
}

// Presence webhooks arrive concurrently and out of order (Pusher retries,
// several regions): the user's final status is the one of the newest
// time_ms, and stays there when the whole lot is delivered again.
func TestPresenceWebhooksConcurrentAndShuffledEndAtTheNewest(t *testing.T) {
	r := newRelApp(t, relOptions{})
	t0 := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	type hook struct {
		online bool
		at     time.Time
	}
	var hooks []hook
	for i := range 40 {
		hooks = append(hooks, hook{online: i%2 == 0, at: t0.Add(time.Duration(i) * time.Millisecond)})
	}
	newest := hooks[len(hooks)-1] // offline
	deliver := func() {
		rand.Shuffle(len(hooks), func(i, j int) { hooks[i], hooks[j] = hooks[j], hooks[i] })
		var wg sync.WaitGroup
		for _, h := range hooks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := "channel_vacated"
				if h.online {
					name = "channel_occupied"
				}
				res := r.pusherWebhook(map[string]any{"time_ms": h.at.UnixMilli(), "events": []map[string]any{{"name": name, "channel": "presence-user-alice"}}})
				if res.status != http.StatusOK {
					t.Errorf("webhook: %d %s", res.status, res.raw)
				}
			}()
		}
		wg.Wait()
	}
	presence := func() map[string]any {
		t.Helper()
		users := r.do("GET", "/api/presence?user_ids=alice", "bob", nil).expect(t, http.StatusOK).field("users").([]any)
		return users[0].(map[string]any)
	}
	// alice has written to bob, so bob may see her status.
	r.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "hi"}).expect(t, http.StatusCreated)
	deliver()
	first := presence()
	// The status is the newest webhook's whatever the order. last_active_at
	// is when the status last changed as applied, which depends on the order
	// in which the no-op webhooks came; it is never after the newest one.
	if first["online"] != newest.online {
		t.Errorf("presence = %v, want online=%v (the newest webhook)", first, newest.online)
	}
	at, err := time.Parse(time.RFC3339Nano, sprint(first["last_active_at"]))
	if err != nil || at.Before(t0) || at.After(newest.at) {
		t.Errorf("last_active_at = %v, want within [%v, %v]", first["last_active_at"], t0, newest.at)
	}
	deliver() // every webhook replayed, in another order: nothing may move
	if again := presence(); sprint(again) != sprint(first) {
		t.Errorf("replayed webhooks moved presence from %v to %v", first, again)
	}
}

// A legacy writer inserts a message and marks it read; its database webhooks
// arrive reordered (UPDATE before INSERT), repeated and concurrent. Each of
// the three events reaches the subscriber exactly once.
func TestDatabaseWebhooksReorderedRepeatedAndConcurrent(t *testing.T) {
	r := newRelApp(t, relOptions{})
	bob := r.subscriber("bob")
	bob.subscribe("private-chat-alice-bob")
	rec := r.insertLegacyMessage("alice", "bob", "from the old client")
	if _, err := r.pool.Exec(t.Context(), `UPDATE messages SET read_at = now() WHERE id = $1::uuid`, rec["id"]); err != nil {
		t.Fatal(err)
	}
	read := map[string]any{}
	for k, v := range rec {
		read[k] = v
	}
	read["read_at"] = time.Now().UTC().Format(time.RFC3339Nano)
	update := map[string]any{"type": "UPDATE", "table": "messages", "schema": "public", "record": read, "old_record": rec}
	insert := map[string]any{"type": "INSERT", "table": "messages", "schema": "public", "record": rec, "old_record": nil}

	var (
		wg    sync.WaitGroup
		total atomic.Int64
	)
	for _, hook := range []map[string]any{update, update, insert, update, insert, insert} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := r.dbWebhook(hook)
			if res.status != http.StatusOK {
				t.Errorf("webhook: %d %s", res.status, res.raw)
				return
			}
			total.Add(int64(res.field("published").(float64)))
		}()
	}
	wg.Wait()
	if got, want := total.Load(), int64(3); got != want {
		t.Errorf("published %d in all, want %d (new-message, message-notification, message-read)", got, want)
	}
	counts := map[string]int{}
	timeout := time.After(700 * time.Millisecond)
	for done := false; !done; {
		select {
		case e := <-bob.events:
			if e.Channel == "private-chat-alice-bob" {
				counts[e.Event]++
			}
		case <-timeout:
			done = true
		}
	}
	if counts["new-message"] != 1 || counts["message-read"] != 1 {
		t.Errorf("bob received %v, want new-message and message-read once each", counts)
	}
}

// PostgreSQL is restarted in the middle of a load run, with senders and a
// poller going on. While it is down requests fail cleanly with 503
// unavailable (never 500, never a hang); the pool recovers by itself; every
// send a client retried until acknowledged is stored exactly once with its
// events, nothing else is stored, and poll hands every one out.
func TestPostgresRestartInTheMiddleOfALoadRun(t *testing.T) {
	pg := dbtest.NewPrivateServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// The production pool, as a serverless instance opens it: 2 connections.
	pool, err := store.Open(ctx, pg.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	r := newRelApp(t, relOptions{dbURL: pg.URL(), pool: pool, env: map[string]string{"SEND_RATE_LIMIT": "off"}})
	cursor := r.cursorOf("bob")

	var (
		phase    atomic.Int32 // 0 up, 1 down, 2 back
		mu       sync.Mutex
		statuses = map[string]map[int]int{}
		acked    []string
		bad      []string
	)
	count := func(phase int32, status int) {
		mu.Lock()
		defer mu.Unlock()
		key := [...]string{"before", "down", "after"}[phase]
		if statuses[key] == nil {
			statuses[key] = map[int]int{}
		}
		statuses[key][status]++
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for s := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				// Retry one client_id until it is acknowledged, as the
				// client does: a 503 may hide a commit.
				body := map[string]any{"to": "bob", "body": fmt.Sprintf("s%d-%d", s, n), "client_id": fmt.Sprintf("s%d-%d", s, n)}
				for deadline := time.Now().Add(30 * time.Second); ; {
					p := phase.Load()
					res, err := rawSend(r.url, fmt.Sprint("sender", s), body)
					if err != nil {
						mu.Lock()
						bad = append(bad, err.Error())
						mu.Unlock()
						return
					}
					count(p, res.status)
					if res.status == http.StatusCreated || res.status == http.StatusOK {
						mu.Lock()
						acked = append(acked, res.id)
						mu.Unlock()
						break
					}
					if res.status != http.StatusServiceUnavailable || res.code != "unavailable" {
						mu.Lock()
						bad = append(bad, fmt.Sprintf("%d %s", res.status, res.raw))
						mu.Unlock()
					}
					if time.Now().After(deadline) {
						mu.Lock()
						bad = append(bad, "a send was never acknowledged within 30 s")
						mu.Unlock()
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	time.Sleep(time.Second)
	phase.Store(1)
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := pg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	phase.Store(2)
	// Until ten sends were acknowledged after the restart, however slow the
	// machine: how many fit in a fixed period depends on its load.
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		after := statuses["after"][http.StatusCreated] + statuses["after"][http.StatusOK]
		mu.Unlock()
		if after >= 10 {
			break
		}
	}
	close(stop)
	wg.Wait()

	t.Logf("statuses: %v; %d acknowledged", statuses, len(acked))
	for _, b := range bad {
		t.Errorf("unexpected answer: %s", b)
	}
	if statuses["down"][http.StatusServiceUnavailable] == 0 {
		t.Errorf("no 503 while PostgreSQL was down: %v", statuses["down"])
	}
	if ok := statuses["after"][http.StatusCreated] + statuses["after"][http.StatusOK]; ok < 10 {
		t.Errorf("only %d sends acknowledged after the restart: the pool did not recover", ok)
	}
	expectLedger(t, pool, acked)
	r.expectPolled("bob", cursor, acked)
}

// sendAnswer is what rawSend reads of an answer.
type sendAnswer struct {
	status    int
	code, id  string
	published any
	raw       []byte
}

// rawSend is a send that reports transport errors instead of failing the
// test, for use from load goroutines.
func rawSend(base, user string, body map[string]any) (sendAnswer, error) {
	raw, err := jsonMarshal(body)
	if err != nil {
		return sendAnswer{}, err
	}
	req, err := http.NewRequest("POST", base+"/api/messages/send", strings.NewReader(string(raw)))
	if err != nil {
		return sendAnswer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	tok, err := signToken(user)
	if err != nil {
		return sendAnswer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return sendAnswer{}, err
	}
	defer res.Body.Close()
	var out struct {
		Message struct {
			ID string `json:"id"`
		} `json:"message"`
		Published any `json:"published"`
		Error     struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	b, _ := readAll(res.Body)
	_ = jsonUnmarshal(string(b), &out)
	return sendAnswer{status: res.StatusCode, code: out.Error.Code, id: out.Message.ID, published: out.Published, raw: b}, nil
}

func jsonMarshal(v any) ([]byte, error)   { return json.Marshal(v) }
func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
func readAll(r io.Reader) ([]byte, error) { return io.ReadAll(r) }
func signToken(user string) (string, error) {
	return auth.SignHS256(jwtSecret, auth.User{ID: user, Name: user}, time.Hour)
}
