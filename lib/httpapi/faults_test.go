package httpapi_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/config"
	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/httpapi"
	"github.com/chatwire/chatwire/lib/nodetest"
	"github.com/chatwire/chatwire/lib/pusherlocal"
)

// Secrets of the webhook and cron routes in faultApp.
const (
	dbWebhookSecret = "test-db-webhook-secret-5f1c"
	cronSecret      = "test-cron-secret-9a7e"
)

// faultOptions tune newFaultApp.
type faultOptions struct {
	// webhooks makes the local Pusher server post its webhooks to the app's
	// /api/pusher/webhook, as a Pusher app configured for presence does.
	webhooks           bool
	memberRemovedDelay time.Duration
	outbox             chat.OutboxOptions
}

// faultApp is the harness's app with the webhook and cron secrets set, an
// optional webhook from the local Pusher server to the app, and a Pusher
// server that can be stopped and brought back on the same address.
type faultApp struct {
	*app
	mu        sync.Mutex // guards app.pusher while a Node test drives restarts
	pusherCfg pusherlocal.Config
	addr      string
}

func newFaultApp(t *testing.T, o faultOptions) *faultApp {
	t.Helper()
	pool, dbURL := dbtest.NewPool(t)
	// The app's URL must exist before the Pusher server that posts to it,
	// and the app needs that server's address: serve a mux that gets the
	// handler once it is built (ServeMux is safe for that).
	mux := http.NewServeMux()
	web := httptest.NewServer(mux)
	t.Cleanup(web.Close)
	f := &faultApp{
		app: &app{t: t, url: web.URL, pool: pool, logs: &syncBuffer{}},
		pusherCfg: pusherlocal.Config{
			AppID: pusherAppID, Key: pusherKey, Secret: pusherSecret,
			MemberRemovedDelay: o.memberRemovedDelay,
		},
	}
	if o.webhooks {
		f.pusherCfg.WebhookURL = web.URL + "/api/pusher/webhook"
	}
	if err := f.startPusher("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"DATABASE_URL":      dbURL,
		"AUTH_JWT_SECRET":   jwtSecret,
		"PUSHER_APP_ID":     pusherAppID,
		"PUSHER_KEY":        pusherKey,
		"PUSHER_SECRET":     pusherSecret,
		"PUSHER_HOST":       f.addr,
		"PUSHER_USE_TLS":    "false",
		"DB_WEBHOOK_SECRET": dbWebhookSecret,
		"CRON_SECRET":       cronSecret,
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	deps, err := httpapi.NewDeps(cfg, pool, httpapi.NewLogger(f.logs), httpapi.Options{Chat: chat.Options{Outbox: o.outbox}})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", httpapi.NewHandler(deps))
	t.Cleanup(func() {
		for _, secret := range []string{dbWebhookSecret, cronSecret, pusherSecret} {
			if strings.Contains(f.logs.String(), secret) {
				t.Errorf("a secret appears in the logs")
			}
		}
	})
	return f
}

// startPusher starts a local Pusher server on addr. Bringing it back on the
// address of a stopped one may meet the port still closing: retry briefly.
func (f *faultApp) startPusher(addr string) error {
	srv, err := pusherlocal.New(f.pusherCfg)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		err = srv.Start(addr)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	f.t.Cleanup(func() { _ = srv.Close() })
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pusher, f.addr = srv, srv.Addr()
	return nil
}

// stopPusher takes the Pusher server down: connections close, triggers fail.
func (f *faultApp) stopPusher() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pusher.Close()
}

// restartPusher brings a fresh Pusher server up on the stopped one's address,
// which the app and the clients still use.
func (f *faultApp) restartPusher() error {
	f.mu.Lock()
	addr := f.addr
	f.mu.Unlock()
	return f.startPusher(addr)
}

// outage stops the Pusher server, or fails the test.
func (f *faultApp) outage() {
	f.t.Helper()
	if err := f.stopPusher(); err != nil {
		f.t.Fatal(err)
	}
}

// recover brings the Pusher server back, or fails the test.
func (f *faultApp) recover() {
	f.t.Helper()
	if err := f.restartPusher(); err != nil {
		f.t.Fatal(err)
	}
}

// cron runs the outbox sweep as Vercel does and returns its answer.
func (f *faultApp) cron() response {
	f.t.Helper()
	return f.do("GET", "/api/cron/outbox", "", nil, "Authorization", "Bearer "+cronSecret)
}

// pusherWebhook posts a webhook signed as Pusher signs it.
func (f *faultApp) pusherWebhook(body any) response {
	f.t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.do("POST", "/api/pusher/webhook", "", string(raw),
		"X-Pusher-Key", pusherKey, "X-Pusher-Signature", sign(pusherSecret, raw))
}

func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// dbWebhook posts a Supabase database webhook with the right secret.
func (f *faultApp) dbWebhook(body any) response {
	f.t.Helper()
	return f.do("POST", "/api/webhooks/database", "", body, "Authorization", "Bearer "+dbWebhookSecret)
}

// insertLegacyMessage writes a message with plain SQL, as a legacy Supabase
// client does, and returns its row as the database webhook carries it.
func (f *faultApp) insertLegacyMessage(from, to, body string) map[string]any {
	f.t.Helper()
	rec, err := f.legacyMessage(f.t.Context(), from, to, body)
	if err != nil {
		f.t.Fatal(err)
	}
	return rec
}

func (f *faultApp) legacyMessage(ctx context.Context, from, to, body string) (map[string]any, error) {
	var row string
	err := f.pool.QueryRow(ctx, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ($1, $2, $3)
RETURNING to_jsonb(messages.*)::text`, from, to, body).Scan(&row)
	if err != nil {
		return nil, err
	}
	var rec map[string]any
	return rec, json.Unmarshal([]byte(row), &rec)
}

// countEvents counts the events named name on channel: it waits for the
// first as long as a loaded machine may take to deliver it, then d more for
// copies.
func (s *subscriber) countEvents(name, channel string, d time.Duration, match func(pusherEvent) bool) int {
	timeout := time.After(30 * time.Second)
	n := 0
	for {
		select {
		case e := <-s.events:
			if e.Event == name && e.Channel == channel && (match == nil || match(e)) {
				n++
				if n == 1 {
					timeout = time.After(d)
				}
			}
		case <-timeout:
			return n
		}
	}
}

func hasID(id any) func(pusherEvent) bool {
	return func(e pusherEvent) bool {
		var data struct {
			ID string `json:"id"`
		}
		return json.Unmarshal([]byte(e.Data), &data) == nil && data.ID == sprint(id)
	}
}

func TestSendWhilePusherIsDownIsDeliveredOnceItIsBack(t *testing.T) {
	f := newFaultApp(t, faultOptions{outbox: chat.OutboxOptions{CronMinAge: 100 * time.Millisecond}})
	cursor := f.do("GET", "/api/messages/poll", "bob", nil).expect(t, http.StatusOK).field("cursor").(string)
	f.outage()

	res := f.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "during the outage"}).expect(t, http.StatusCreated)
	if got, want := res.field("published"), false; got != want {
		t.Errorf("published = %v, want %v", got, want)
	}
	id := res.field("message", "id")
	events, _ := f.pollUntil("bob", cursor, 2)
	if len(events) == 0 || sprint(events[0]["data"].(map[string]any)["id"]) != sprint(id) {
		t.Fatalf("poll = %v, want the message sent during the outage", events)
	}
	time.Sleep(150 * time.Millisecond) // past CronMinAge
	if cron := f.cron().expect(t, http.StatusServiceUnavailable); !strings.Contains(sprint(cron.field("error", "message")), "2 remaining") {
		t.Errorf("cron during the outage: %s, want the remaining count", cron.raw)
	}

	f.recover()
	bob := f.subscriber("bob")
	bob.subscribe("private-chat-alice-bob")
	cron := f.cron().expect(t, http.StatusOK)
	if got, want := sprint(cron.body), "map[deleted:0 files_removed:0 remaining:0 republished:2]"; got != want {
		t.Errorf("cron = %s, want %s", got, want)
	}
	if got := f.cron().expect(t, http.StatusOK).field("republished"); got != float64(0) {
		t.Errorf("second cron republished %v, want 0", got)
	}
	if got, want := bob.countEvents("new-message", "private-chat-alice-bob", 500*time.Millisecond, hasID(id)), 1; got != want {
		t.Errorf("bob received the message %d times, want %d", got, want)
	}
}

// Vercel Hobby runs the cron once a day, so every successful publish also
// redelivers a few stale events: the next message brings the lost one along.
func TestStaleEventsRideAlongWithTheNextPublish(t *testing.T) {
	f := newFaultApp(t, faultOptions{outbox: chat.OutboxOptions{StaleAge: 200 * time.Millisecond}})
	f.outage()
	lost := f.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "lost"}).expect(t, http.StatusCreated)
	f.recover()
	bob := f.subscriber("bob")
	bob.subscribe("private-chat-alice-bob")
	time.Sleep(250 * time.Millisecond) // past StaleAge

	next := f.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "next"}).expect(t, http.StatusCreated)
	if got, want := next.field("published"), true; got != want {
		t.Fatalf("published = %v, want %v", got, want)
	}
	// Both messages, however long a loaded machine takes, then a second more for copies.
	got := map[string]int{}
	timeout, settling := time.After(30*time.Second), false
	for done := false; !done; {
		select {
		case e := <-bob.events:
			if e.Event == "new-message" {
				got[sprint(decodeData(t, e)["id"])]++
				if len(got) == 2 && !settling {
					timeout, settling = time.After(time.Second), true
				}
			}
		case <-timeout:
			done = true
		}
	}
	if got[sprint(lost.field("message", "id"))] != 1 || got[sprint(next.field("message", "id"))] != 1 || len(got) != 2 {
		t.Errorf("new-message by id = %v, want each of the two messages once", got)
	}
	var unpublished int
	if err := f.pool.QueryRow(t.Context(), `SELECT count(*) FROM events_pending`).Scan(&unpublished); err != nil {
		t.Fatal(err)
	}
	if unpublished != 0 {
		t.Errorf("%d events still unpublished, want 0", unpublished)
	}
}

func TestALegacyRowReachesSubscribersOnceWhateverItsWebhooks(t *testing.T) {
	f := newFaultApp(t, faultOptions{})
	bob := f.subscriber("bob")
	bob.subscribe("private-chat-alice-bob")
	rec := f.insertLegacyMessage("alice", "bob", "from the old client")
	hook := map[string]any{"type": "INSERT", "table": "messages", "schema": "public", "record": rec, "old_record": nil}

	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		sum float64
	)
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := f.dbWebhook(hook)
			if res.status != http.StatusOK {
				t.Errorf("webhook: %d %s", res.status, res.raw)
				return
			}
			mu.Lock()
			sum += res.field("published").(float64)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if sum != 2 {
		t.Errorf("published %v in all, want 2 (new-message and message-notification)", sum)
	}
	if got := f.dbWebhook(hook).expect(t, http.StatusOK).field("published"); got != float64(0) {
		t.Errorf("a late repeat published %v, want 0", got)
	}
	if got, want := bob.countEvents("new-message", "private-chat-alice-bob", 500*time.Millisecond, hasID(rec["id"])), 1; got != want {
		t.Errorf("bob received the legacy message %d times, want %d", got, want)
	}
}

// pusherlocal, like Pusher, reports a presence channel vacated once its last
// member left and the member-removed delay passed; the app turns that into
// user-status-change for the user's contacts.
func TestClosingTheLastConnectionTellsContactsTheUserIsOffline(t *testing.T) {
	f := newFaultApp(t, faultOptions{webhooks: true, memberRemovedDelay: 200 * time.Millisecond})
	// alice has written to bob, so bob may see her status.
	f.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "hi"}).expect(t, http.StatusCreated)
	bob := f.subscriber("bob")
	bob.subscribe("private-user-bob")

	tab1 := f.subscriber("alice")
	tab1.subscribe("presence-user-alice")
	online := decodeData(t, bob.expectEvent("user-status-change", "private-user-bob"))
	if online["user_id"] != "alice" || online["online"] != true || online["last_active_at"] == nil {
		t.Errorf("status = %v, want alice online with last_active_at", online)
	}
	tab2 := f.subscriber("alice")
	tab2.subscribe("presence-user-alice")

	tab1.close()
	bob.expectNoEvent("user-status-change", 600*time.Millisecond) // one tab is still open
	tab2.close()
	offline := decodeData(t, bob.expectEvent("user-status-change", "private-user-bob"))
	if offline["user_id"] != "alice" || offline["online"] != false {
		t.Errorf("status = %v, want alice offline", offline)
	}
	users := f.do("GET", "/api/presence?user_ids=alice", "bob", nil).expect(t, http.StatusOK).field("users").([]any)
	if got := users[0].(map[string]any); got["online"] != false || got["last_active_at"] != offline["last_active_at"] {
		t.Errorf("presence = %v, want offline since %v", got, offline["last_active_at"])
	}
}

// TestPusherJSFaults runs e2e/faults.test.mjs: the real pusher-js through a
// Pusher outage, a legacy row with a repeated webhook, and a closed client.
// The Node test drives the faults through a small control server.
func TestPusherJSFaults(t *testing.T) {
	f := newFaultApp(t, faultOptions{
		webhooks:           true,
		memberRemovedDelay: 300 * time.Millisecond,
		outbox:             chat.OutboxOptions{CronMinAge: 100 * time.Millisecond},
	})
	control := http.NewServeMux()
	answer := func(w http.ResponseWriter, v any, err error) {
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	control.HandleFunc("POST /pusher/stop", func(w http.ResponseWriter, r *http.Request) {
		answer(w, map[string]bool{"ok": true}, f.stopPusher())
	})
	control.HandleFunc("POST /pusher/start", func(w http.ResponseWriter, r *http.Request) {
		answer(w, map[string]bool{"ok": true}, f.restartPusher())
	})
	control.HandleFunc("POST /legacy-message", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ From, To, Body string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rec, err := f.legacyMessage(r.Context(), in.From, in.To, in.Body)
		answer(w, rec, err)
	})
	ctl := httptest.NewServer(control)
	t.Cleanup(ctl.Close)

	host, port, err := net.SplitHostPort(f.addr)
	if err != nil {
		t.Fatal(err)
	}
	nodetest.Run(t, "faults.test.mjs", 90*time.Second,
		"APP_URL="+f.url,
		"CONTROL_URL="+ctl.URL,
		"PUSHER_HOST="+host,
		"PUSHER_PORT="+port,
		"PUSHER_KEY="+pusherKey,
		"CRON_SECRET="+cronSecret,
		"DB_WEBHOOK_SECRET="+dbWebhookSecret,
		"TOKEN_ALICE="+token(t, "alice", "Alice"),
		"TOKEN_BOB="+token(t, "bob", "Bob"),
	)
}

// Under concurrent sends a publish's acknowledgement rides on another send's
// transaction; once the last request has answered nothing is left pending,
// and each message reached its subscriber once.
func TestConcurrentSendsLeaveNothingPendingOnceTheyHaveAnswered(t *testing.T) {
	f := newFaultApp(t, faultOptions{})
	bob := f.subscriber("bob")
	// Eight senders, each within the default rate limit.
	const senders, each = 8, 10
	for s := range senders {
		bob.subscribe(chat.ChatChannel(fmt.Sprint("s", s), "bob"))
	}
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ids = map[string]bool{}
	)
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				res := f.do("POST", "/api/messages/send", fmt.Sprint("s", s), map[string]any{"to": "bob", "body": fmt.Sprint(i)})
				if res.status != http.StatusCreated || res.field("published") != true {
					t.Errorf("send: %d %s", res.status, res.raw)
					return
				}
				mu.Lock()
				ids[sprint(res.field("message", "id"))] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var pending int
	if err := f.pool.QueryRow(t.Context(), `SELECT count(*) FROM events_pending`).Scan(&pending); err != nil {
		t.Fatal(err)
	}
	if pending != 0 {
		t.Errorf("%d events pending after every send answered, want 0", pending)
	}
	got := map[string]int{}
	deadline := time.After(30 * time.Second)
	for len(got) < len(ids) {
		select {
		case e := <-bob.events:
			if e.Event == "new-message" {
				got[sprint(decodeData(t, e)["id"])]++
			}
		case <-deadline:
			t.Fatalf("received %d of %d messages", len(got), len(ids))
		}
	}
	for id := range ids {
		if got[id] != 1 {
			t.Errorf("message %s received %d times, want 1", id, got[id])
		}
	}
}

// A client retries a send exactly when something went wrong. The retry
// answers what actually happened to the message's events, and publishes what
// the first attempt left pending, once.
func TestARetriedSendRepublishesWhatItsFirstAttemptLeftPending(t *testing.T) {
	f := newFaultApp(t, faultOptions{})
	body := map[string]any{"to": "bob", "body": "retried", "client_id": "retry-after-outage"}
	f.outage()
	first := f.do("POST", "/api/messages/send", "alice", body).expect(t, http.StatusCreated)
	if got := first.field("published"); got != false {
		t.Fatalf("first attempt during the outage: published = %v, want false", got)
	}
	if got := f.do("POST", "/api/messages/send", "alice", body).expect(t, http.StatusOK).field("published"); got != false {
		t.Errorf("retry during the outage: published = %v, want false", got)
	}

	f.recover()
	bob := f.subscriber("bob")
	bob.subscribe("private-chat-alice-bob")
	id := first.field("message", "id")
	for i := range 2 {
		retry := f.do("POST", "/api/messages/send", "alice", body).expect(t, http.StatusOK)
		if got := retry.field("published"); got != true {
			t.Errorf("retry %d after recovery: published = %v, want true", i+1, got)
		}
		if got := retry.field("message", "id"); got != id {
			t.Errorf("retry %d answered message %v, want %v", i+1, got, id)
		}
	}
	if got, want := bob.countEvents("new-message", "private-chat-alice-bob", 500*time.Millisecond, hasID(id)), 1; got != want {
		t.Errorf("bob received the message %d times, want %d", got, want)
	}
	var pending int
	if err := f.pool.QueryRow(t.Context(), `SELECT count(*) FROM events_pending`).Scan(&pending); err != nil {
		t.Fatal(err)
	}
	if pending != 0 {
		t.Errorf("%d events still pending, want 0", pending)
	}
}
