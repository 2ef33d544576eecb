package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSendDeliversToBothUsersChannelsWithinOneCall(t *testing.T) {
	a := newApp(t)
	bob := a.subscriber("bob")
	bob.subscribe("private-chat-alice-bob")
	bob.subscribe("private-user-bob")

	res := a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "  hi bob  ", "client_id": "c-1"}).expect(t, http.StatusCreated)
	if got, want := res.field("published"), true; got != want {
		t.Errorf("published = %v, want %v", got, want)
	}
	if got, want := res.field("message", "body"), "hi bob"; got != want {
		t.Errorf("body = %q, want %q (trimmed)", got, want)
	}
	if got, want := res.field("message", "channel"), "private-chat-alice-bob"; got != want {
		t.Errorf("channel = %v, want %v", got, want)
	}
	id := res.field("message", "id")

	msg := decodeData(t, bob.expectEvent("new-message", "private-chat-alice-bob"))
	if got := msg["id"]; got != id {
		t.Errorf("new-message id = %v, want %v", got, id)
	}
	if got, want := msg["created_at"], res.field("message", "created_at"); got != want {
		t.Errorf("event created_at = %v, answer says %v: the event and the API must agree", got, want)
	}
	note := decodeData(t, bob.expectEvent("message-notification", "private-user-bob"))
	if got, want := sprint(note["sender"]), "map[id:alice name:Alice]"; got != want {
		t.Errorf("notification sender = %v, want %v", got, want)
	}
	if got, want := note["preview"], "hi bob"; got != want {
		t.Errorf("preview = %v, want %v", got, want)
	}
}

func TestSendIsIdempotentPerClientIDUnderConcurrentRetries(t *testing.T) {
	a := newApp(t)
	const tries = 20
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		ids      = map[any]bool{}
	)
	for range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "once", "client_id": "retry-1"})
			mu.Lock()
			defer mu.Unlock()
			statuses[res.status]++
			ids[res.field("message", "id")] = true
		}()
	}
	wg.Wait()
	if got, want := statuses[http.StatusCreated], 1; got != want {
		t.Errorf("201 answers = %d, want %d (all: %v)", got, want, statuses)
	}
	if got, want := statuses[http.StatusOK], tries-1; got != want {
		t.Errorf("200 answers = %d, want %d (all: %v)", got, want, statuses)
	}
	if got, want := len(ids), 1; got != want {
		t.Errorf("distinct message ids = %d, want %d", got, want)
	}
	var messages, events int
	if err := a.pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM events WHERE event = 'new-message')`).Scan(&messages, &events); err != nil {
		t.Fatal(err)
	}
	if messages != 1 || events != 1 {
		t.Errorf("stored %d messages and %d new-message events, want 1 and 1", messages, events)
	}
}

// With realtime disabled nothing is ever published: a retry of a send says
// so as the first attempt did, instead of claiming a publish that never was.
func TestARetryReportsPublishedAsTheFirstAttemptWithRealtimeDisabled(t *testing.T) {
	a := newApp(t, appOptions{realtimeDisabled: true})
	body := map[string]any{"to": "bob", "body": "once", "client_id": "retry-disabled"}
	first := a.do("POST", "/api/messages/send", "alice", body).expect(t, http.StatusCreated)
	retry := a.do("POST", "/api/messages/send", "alice", body).expect(t, http.StatusOK)
	for name, res := range map[string]response{"first": first, "retry": retry} {
		if got := res.field("published"); got != false {
			t.Errorf("%s attempt: published = %v, want false with realtime disabled", name, got)
		}
	}
	if got, want := retry.field("message", "id"), first.field("message", "id"); got != want {
		t.Errorf("retry answered message %v, want the first one %v", got, want)
	}
}

func TestSendRejectsBadInputNamingTheField(t *testing.T) {
	a := newApp(t)
	long := strings.Repeat("é", 4001)
	cases := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"no target", map[string]any{"body": "hi"}, 400, "to"},
		{"both targets", map[string]any{"to": "bob", "room_id": "r1", "body": "hi"}, 400, "to"},
		{"empty body", map[string]any{"to": "bob", "body": "   "}, 400, "body"},
		{"body too long", map[string]any{"to": "bob", "body": long}, 400, "body"},
		{"body not a string", map[string]any{"to": "bob", "body": 42}, 400, "body"},
		{"bad client id", map[string]any{"to": "bob", "body": "hi", "client_id": "no spaces"}, 400, "client_id"},
		{"to yourself", map[string]any{"to": "alice", "body": "hi"}, 400, "to"},
		{"plain http attachment", map[string]any{"to": "bob", "attachment": map[string]any{"url": "http://x.example/a.png"}}, 400, "attachment.url"},
		{"id too long for a channel", map[string]any{"to": strings.Repeat("b", 150), "body": "hi"}, 400, "to"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := a.do("POST", "/api/messages/send", "alice", tc.body).expect(t, tc.status)
			if got, want := res.field("error", "code"), "validation_failed"; got != want {
				t.Errorf("code = %v, want %v", got, want)
			}
			fields, _ := res.field("error", "fields").(map[string]any)
			if _, ok := fields[tc.field]; !ok {
				t.Errorf("fields = %v, want %q named", fields, tc.field)
			}
		})
	}
	var stored int
	if err := a.pool.QueryRow(context.Background(), `SELECT count(*) FROM messages`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != 0 {
		t.Errorf("%d messages stored from bad input, want 0", stored)
	}
}

func TestSendAcceptsFourThousandCharactersOfMultibyteText(t *testing.T) {
	a := newApp(t)
	body := strings.Repeat("€", 4000)
	res := a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": body}).expect(t, http.StatusCreated)
	if got := res.field("message", "body"); got != body {
		t.Errorf("body changed in storage")
	}
}

func TestHTTPHygiene(t *testing.T) {
	a := newApp(t)
	cases := []struct {
		name    string
		method  string
		path    string
		user    string
		body    any
		headers []string
		status  int
		code    string
	}{
		{"no token", "POST", "/api/messages/send", "", map[string]any{"to": "bob", "body": "x"}, nil, 401, "unauthorized"},
		{"garbage token", "POST", "/api/messages/send", "", map[string]any{"to": "bob", "body": "x"}, []string{"Authorization", "Bearer not.a.jwt"}, 401, "unauthorized"},
		{"wrong method", "GET", "/api/messages/send", "alice", nil, nil, 405, "method_not_allowed"},
		{"form instead of JSON", "POST", "/api/messages/send", "alice", `to=bob`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
		{"malformed JSON", "POST", "/api/messages/send", "alice", `{"to":`, nil, 400, "bad_request"},
		{"two JSON values", "POST", "/api/messages/send", "alice", `{"to":"bob","body":"a"}{}`, nil, 400, "bad_request"},
		{"array body", "POST", "/api/messages/send", "alice", `[1]`, nil, 400, "bad_request"},
		{"oversized", "POST", "/api/messages/send", "alice", `{"body":"` + strings.Repeat("a", 300<<10) + `"}`, nil, 413, "payload_too_large"},
		{"unknown route", "GET", "/api/nope", "alice", nil, nil, 404, "not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := a.do(tc.method, tc.path, tc.user, tc.body, tc.headers...).expect(t, tc.status)
			if got := res.field("error", "code"); got != tc.code {
				t.Errorf("code = %v, want %v", got, tc.code)
			}
			if res.field("error", "message") == "" {
				t.Errorf("error without a message: %s", res.raw)
			}
			if tc.status == 405 && res.header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q, want POST", res.header.Get("Allow"))
			}
		})
	}
}

func TestExpiredTokenIsRefusedWithAReason(t *testing.T) {
	a := newApp(t)
	res := a.do("GET", "/api/messages/poll", "", nil, "Authorization", "Bearer "+expiredToken(t))
	res.expect(t, http.StatusUnauthorized)
	if msg, _ := res.field("error", "message").(string); !strings.Contains(msg, "expired") {
		t.Errorf("message = %q, want it to say the token expired", msg)
	}
}

func TestHistoryPagesBackwardsWithoutGapsOrRepeats(t *testing.T) {
	a := newApp(t)
	for i := range 7 {
		a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "m" + sprint(i)}).expect(t, http.StatusCreated)
	}
	a.do("POST", "/api/messages/send", "carol", map[string]any{"to": "bob", "body": "other chat"}).expect(t, http.StatusCreated)

	var seen []string
	before := ""
	for page := 0; page < 10; page++ {
		path := "/api/messages/history?with=alice&limit=3"
		if before != "" {
			path += "&before=" + before
		}
		res := a.do("GET", path, "bob", nil).expect(t, http.StatusOK)
		for _, m := range res.field("messages").([]any) {
			seen = append(seen, m.(map[string]any)["body"].(string))
		}
		next, _ := res.field("next_before").(string)
		if next == "" {
			break
		}
		before = next
	}
	if got, want := strings.Join(seen, ","), "m6,m5,m4,m3,m2,m1,m0"; got != want {
		t.Errorf("history = %s, want %s", got, want)
	}
	a.do("GET", "/api/messages/history?with=alice&before=not-a-uuid", "bob", nil).expect(t, http.StatusBadRequest)
	a.do("GET", "/api/messages/history?with=alice&limit=101", "bob", nil).expect(t, http.StatusBadRequest)
	a.do("GET", "/api/messages/history?with=alice&limit=x", "bob", nil).expect(t, http.StatusBadRequest)
	a.do("GET", "/api/messages/history", "bob", nil).expect(t, http.StatusBadRequest)
}

func TestPollHandsOutOnlyTheCallersEventsFromTheCursorOn(t *testing.T) {
	a := newApp(t, appOptions{realtimeDisabled: true})
	start := a.do("GET", "/api/messages/poll", "bob", nil).expect(t, http.StatusOK)
	if got := len(start.field("events").([]any)); got != 0 {
		t.Errorf("first poll returned %d events, want none", got)
	}
	cursor := start.field("cursor").(string)
	carolCursor := a.do("GET", "/api/messages/poll", "carol", nil).expect(t, http.StatusOK).field("cursor").(string)

	send := a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "by poll"}).expect(t, http.StatusCreated)
	if got, want := send.field("published"), false; got != want {
		t.Errorf("published = %v with realtime disabled, want %v", got, want)
	}

	events, next := a.pollUntil("bob", cursor, 2)
	var names []string
	for _, e := range events {
		names = append(names, e["event"].(string))
	}
	if got, want := strings.Join(names, ","), "new-message,message-notification"; got != want {
		t.Fatalf("bob's events = %s, want %s", got, want)
	}
	if got := events[0]["data"].(map[string]any)["body"]; got != "by poll" {
		t.Errorf("polled body = %v", got)
	}
	if again := a.pollQuiet("bob", next); len(again) != 0 {
		t.Errorf("polling on returned %d events again, want 0", len(again))
	}
	if carol := a.pollQuiet("carol", carolCursor); len(carol) != 0 {
		t.Errorf("a stranger polled %d events of someone else's chat", len(carol))
	}
	a.do("GET", "/api/messages/poll?cursor=garbage", "bob", nil).expect(t, http.StatusBadRequest)
	a.do("GET", "/api/messages/poll?cursor="+next+"&limit=501", "bob", nil).expect(t, http.StatusBadRequest)
}

func TestReadIsForTheReceiverOnlyAndAllOrNothing(t *testing.T) {
	a := newApp(t)
	alice := a.subscriber("alice")
	alice.subscribe("private-chat-alice-bob")

	first := a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "1"}).expect(t, http.StatusCreated).field("message", "id")
	second := a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "2"}).expect(t, http.StatusCreated).field("message", "id")
	// To carol: writing to alice would mark alice's messages read (sending
	// marks the conversation read for the sender).
	own := a.do("POST", "/api/messages/send", "bob", map[string]any{"to": "carol", "body": "mine"}).expect(t, http.StatusCreated).field("message", "id")

	// One id bob sent himself: nothing is marked.
	a.do("POST", "/api/messages/read", "bob", map[string]any{"message_ids": []any{first, own}}).expect(t, http.StatusForbidden)
	var unread int
	if err := a.pool.QueryRow(context.Background(), `SELECT count(*) FROM messages WHERE read_at IS NULL`).Scan(&unread); err != nil {
		t.Fatal(err)
	}
	if unread != 3 {
		t.Fatalf("%d unread after a refused read, want 3", unread)
	}

	res := a.do("POST", "/api/messages/read", "bob", map[string]any{"message_ids": []any{first, second}}).expect(t, http.StatusOK)
	if got := len(res.field("read").([]any)); got != 2 {
		t.Errorf("read %d, want 2", got)
	}
	data := decodeData(t, alice.expectEvent("message-read", "private-chat-alice-bob"))
	if got, want := data["reader_id"], "bob"; got != want {
		t.Errorf("reader_id = %v, want %v", got, want)
	}
	if got := len(data["message_ids"].([]any)); got != 2 {
		t.Errorf("message-read carries %d ids, want 2", got)
	}

	a.do("POST", "/api/messages/read", "alice", map[string]any{"with": "bob"}).expect(t, http.StatusOK)
	bad := a.do("POST", "/api/messages/read", "bob", map[string]any{"message_ids": []any{first, "nope"}}).expect(t, http.StatusBadRequest)
	if got, want := bad.field("error", "fields", "message_ids"), "item 1: must be a UUID"; got != want {
		t.Errorf("fields.message_ids = %v, want %q", got, want)
	}
	many := make([]any, 501)
	for i := range many {
		many[i] = first
	}
	tooMany := a.do("POST", "/api/messages/read", "bob", map[string]any{"message_ids": many}).expect(t, http.StatusBadRequest)
	if got, want := tooMany.field("error", "fields", "message_ids"), "at most 500 items"; got != want {
		t.Errorf("fields.message_ids = %v, want %q", got, want)
	}
	a.do("POST", "/api/messages/read", "bob", map[string]any{}).expect(t, http.StatusBadRequest)
}

func TestTypingIsThrottledButStopsAlwaysGo(t *testing.T) {
	a := newApp(t)
	bob := a.subscriber("bob")
	bob.subscribe("private-chat-alice-bob")

	first := a.do("POST", "/api/typing", "alice", map[string]any{"to": "bob", "typing": true}).expect(t, http.StatusOK)
	if first.field("sent") != true {
		t.Fatalf("first start not sent: %s", first.raw)
	}
	data := decodeData(t, bob.expectEvent("typing-start", "private-chat-alice-bob"))
	if data["user_id"] != "alice" || data["name"] != "Alice" {
		t.Errorf("typing data = %v", data)
	}
	second := a.do("POST", "/api/typing", "alice", map[string]any{"to": "bob", "typing": true}).expect(t, http.StatusOK)
	if second.field("sent") != false {
		t.Errorf("second start within 1 s was sent")
	}
	if wait, _ := second.field("retry_after_ms").(float64); wait <= 0 || wait > 1000 {
		t.Errorf("retry_after_ms = %v, want 1..1000", wait)
	}
	stop := a.do("POST", "/api/typing", "alice", map[string]any{"to": "bob", "typing": false}).expect(t, http.StatusOK)
	if stop.field("sent") != true {
		t.Errorf("stop not sent")
	}
	bob.expectEvent("typing-stop", "private-chat-alice-bob")
	a.do("POST", "/api/typing", "alice", map[string]any{"to": "bob"}).expect(t, http.StatusBadRequest)
	a.do("POST", "/api/typing", "alice", map[string]any{"room_id": "nowhere", "typing": true}).expect(t, http.StatusForbidden)
}

func TestPusherOutageNeverLosesAMessage(t *testing.T) {
	a := newApp(t)
	cursor := a.do("GET", "/api/messages/poll", "bob", nil).expect(t, http.StatusOK).field("cursor").(string)
	if err := a.pusher.Close(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res := a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "during outage"}).expect(t, http.StatusCreated)
	if got, want := res.field("published"), false; got != want {
		t.Errorf("published = %v, want %v", got, want)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("send took %v with Pusher down; the publish deadline should bound it", elapsed)
	}
	if polled, _ := a.pollUntil("bob", cursor, 2); len(polled) != 2 {
		got := len(polled)
		t.Errorf("poll returned %d events, want the message and its notification", got)
	}
	var unpublished int
	if err := a.pool.QueryRow(context.Background(), `SELECT count(*) FROM events_pending`).Scan(&unpublished); err != nil {
		t.Fatal(err)
	}
	if unpublished != 2 {
		t.Errorf("%d events left for redelivery, want 2", unpublished)
	}
	health := a.do("GET", "/api/health", "", nil).expect(t, http.StatusOK)
	if got, want := health.field("pusher"), "error"; got != want {
		t.Errorf("health pusher = %v, want %v", got, want)
	}
}

func TestHealthReportsEachDependency(t *testing.T) {
	res := newApp(t).do("GET", "/api/health", "", nil).expect(t, http.StatusOK)
	if res.field("ok") != true || res.field("database") != "ok" || res.field("pusher") != "ok" {
		t.Errorf("health = %s", res.raw)
	}
	disabled := newApp(t, appOptions{realtimeDisabled: true}).do("GET", "/api/health", "", nil).expect(t, http.StatusOK)
	if got, want := disabled.field("pusher"), "disabled"; got != want {
		t.Errorf("pusher = %v, want %v", got, want)
	}
}

// TestPusherEventsCarryTheirPollID: a client that gets an event through
// Pusher and again through poll matches the two by Pusher's data.event_id
// and poll's id, for every event of the log.
func TestPusherEventsCarryTheirPollID(t *testing.T) {
	a := newApp(t)
	bob := a.subscriber("bob")
	bob.subscribe("private-chat-alice-bob")
	bob.subscribe("private-user-bob")
	cursor := a.do("GET", "/api/messages/poll", "bob", nil).expect(t, http.StatusOK).field("cursor").(string)
	a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "matched"}).expect(t, http.StatusCreated)

	pushed := map[string]any{
		"new-message":          decodeData(t, bob.expectEvent("new-message", "private-chat-alice-bob"))["event_id"],
		"message-notification": decodeData(t, bob.expectEvent("message-notification", "private-user-bob"))["event_id"],
	}
	polled, _ := a.pollUntil("bob", cursor, 2)
	if len(polled) != 2 {
		t.Fatalf("polled %d events, want 2", len(polled))
	}
	for _, e := range polled {
		if got, want := pushed[e["event"].(string)], e["id"]; got != want {
			t.Errorf("%s: Pusher's event_id = %v, poll's id = %v", e["event"], got, want)
		}
	}
}
