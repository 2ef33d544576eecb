package httpapi_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func occupied(name, channel string, at time.Time) map[string]any {
	return map[string]any{"time_ms": at.UnixMilli(), "events": []map[string]any{{"name": name, "channel": channel}}}
}

func TestPusherWebhookSetsStatusOnceAndTellsContacts(t *testing.T) {
	f := newFaultApp(t, faultOptions{})
	f.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "hi"}).expect(t, http.StatusCreated)
	bob := f.subscriber("bob")
	bob.subscribe("private-user-bob")
	t0 := time.Now().Truncate(time.Millisecond)

	res := f.pusherWebhook(occupied("channel_occupied", "presence-user-alice", t0)).expect(t, http.StatusOK)
	if got, want := res.field("changed"), float64(1); got != want {
		t.Errorf("changed = %v, want %v", got, want)
	}
	status := decodeData(t, bob.expectEvent("user-status-change", "private-user-bob"))
	// Through Pusher an event carries its poll id (tested in lib/realtime).
	if id, _ := status["event_id"].(string); !regexp.MustCompile(`^\d+_\d+$`).MatchString(id) {
		t.Errorf("event_id = %v, want a poll id", status["event_id"])
	}
	delete(status, "event_id")
	if got, want := sprint(status), fmt.Sprintf("map[last_active_at:%s online:true user_id:alice]", t0.UTC().Format("2006-01-02T15:04:05.000Z")); got != want {
		t.Errorf("status = %s, want %s", got, want)
	}

	// Pusher retries, and member_added follows channel_occupied: nothing new.
	f.pusherWebhook(occupied("channel_occupied", "presence-user-alice", t0)).expect(t, http.StatusOK)
	f.pusherWebhook(occupied("member_added", "presence-user-alice", t0.Add(time.Millisecond))).expect(t, http.StatusOK)
	// A vacated that happened before, delivered late, is ignored.
	late := f.pusherWebhook(occupied("channel_vacated", "presence-user-alice", t0.Add(-time.Second))).expect(t, http.StatusOK)
	if got, want := late.field("changed"), float64(0); got != want {
		t.Errorf("late webhook changed = %v, want %v", got, want)
	}
	bob.expectNoEvent("user-status-change", 300*time.Millisecond)

	// One webhook may batch events of several users; the last one of a user wins.
	f.pusherWebhook(map[string]any{"time_ms": t0.Add(2 * time.Second).UnixMilli(), "events": []map[string]any{
		{"name": "member_removed", "channel": "presence-user-alice", "user_id": "alice"},
		{"name": "channel_vacated", "channel": "presence-user-alice"},
		{"name": "channel_occupied", "channel": "presence-user-carol"},
		{"name": "channel_occupied", "channel": "private-chat-alice-bob"},
		{"name": "client_event", "channel": "presence-user-dave"},
	}}).expect(t, http.StatusOK)
	offline := decodeData(t, bob.expectEvent("user-status-change", "private-user-bob"))
	if offline["user_id"] != "alice" || offline["online"] != false {
		t.Errorf("status = %v, want alice offline", offline)
	}

	// carol is online, but bob shares nothing with her: she reads as unknown,
	// exactly like dave, whom nobody has seen.
	users := f.do("GET", "/api/presence?user_ids=carol,alice,dave,alice", "bob", nil).expect(t, http.StatusOK).field("users")
	want := fmt.Sprintf("[map[last_active_at:<nil> online:false user_id:carol] map[last_active_at:%s online:false user_id:alice] map[last_active_at:<nil> online:false user_id:dave]]",
		offline["last_active_at"])
	if got := sprint(users); got != want {
		t.Errorf("presence = %s\nwant %s", got, want)
	}
	self := f.do("GET", "/api/presence?user_ids=carol", "carol", nil).expect(t, http.StatusOK).field("users")
	if got := sprint(self); !strings.Contains(got, "online:true") {
		t.Errorf("carol's own presence = %s, want online", got)
	}
}

func TestPusherWebhookIsRefusedWithoutAValidSignature(t *testing.T) {
	f := newFaultApp(t, faultOptions{})
	body := `{"time_ms":1,"events":[{"name":"channel_occupied","channel":"presence-user-alice"}]}`
	cases := []struct {
		name    string
		headers []string
	}{
		{"no headers", nil},
		{"wrong signature", []string{"X-Pusher-Key", pusherKey, "X-Pusher-Signature", sign("not-the-secret", []byte(body))}},
		{"wrong key", []string{"X-Pusher-Key", "other-key", "X-Pusher-Signature", sign(pusherSecret, []byte(body))}},
		{"signature of another body", []string{"X-Pusher-Key", pusherKey, "X-Pusher-Signature", sign(pusherSecret, []byte(body+" "))}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := f.do("POST", "/api/pusher/webhook", "", body, tc.headers...).expect(t, http.StatusUnauthorized)
			if got, want := res.field("error", "code"), "unauthorized"; got != want {
				t.Errorf("code = %v, want %v", got, want)
			}
		})
	}
	var changed int
	if err := f.pool.QueryRow(t.Context(), `SELECT count(*) FROM users WHERE online`).Scan(&changed); err != nil {
		t.Fatal(err)
	}
	if changed != 0 {
		t.Errorf("%d users online after refused webhooks, want 0", changed)
	}
}

func TestPusherWebhookWithRealtimeDisabledIsUnavailable(t *testing.T) {
	a := newApp(t, appOptions{realtimeDisabled: true})
	a.do("POST", "/api/pusher/webhook", "", `{}`).expect(t, http.StatusServiceUnavailable)
}

func TestPresenceQueryIsValidated(t *testing.T) {
	a := newApp(t)
	many := strings.TrimSuffix(strings.Repeat("u,", 101), ",")
	cases := []struct {
		name  string
		query string
	}{
		{"missing", ""},
		{"empty", "?user_ids="},
		{"an empty id", "?user_ids=a,,b"},
		{"more than 100", "?user_ids=" + many},
		{"an id too long", "?user_ids=" + strings.Repeat("x", 151)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := a.do("GET", "/api/presence"+tc.query, "alice", nil).expect(t, http.StatusBadRequest)
			fields, _ := res.field("error", "fields").(map[string]any)
			if _, ok := fields["user_ids"]; !ok {
				t.Errorf("fields = %v, want user_ids named", fields)
			}
		})
	}
	a.do("GET", "/api/presence?user_ids=a", "", nil).expect(t, http.StatusUnauthorized)
	exactly100 := strings.TrimSuffix(strings.Repeat("u,", 100), ",")
	a.do("GET", "/api/presence?user_ids="+exactly100, "alice", nil).expect(t, http.StatusOK)
}
