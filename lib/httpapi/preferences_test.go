package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

const preferencesPath = "/api/notifications/preferences"

func TestPreferencesAreValidatedAndStored(t *testing.T) {
	a := newApp(t)
	def := a.do("GET", preferencesPath, "bob", nil).expect(t, http.StatusOK)
	if got, want := string(def.raw), `{"enabled":true,"muted_channels":[],"presence_hidden":false}`+"\n"; got != want {
		t.Errorf("defaults = %s, want %s", got, want)
	}

	tooMany := make([]string, 101)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("private-room-r%d", i)
	}
	cases := []struct {
		name  string
		body  any
		field string
	}{
		{"empty object", map[string]any{}, "enabled"},
		{"enabled not a boolean", map[string]any{"enabled": "yes", "muted_channels": []string{}}, "enabled"},
		{"no muted_channels", map[string]any{"enabled": true}, "muted_channels"},
		{"muted_channels not an array", map[string]any{"enabled": true, "muted_channels": "private-room-r1"}, "muted_channels"},
		{"101 channels", map[string]any{"enabled": true, "muted_channels": tooMany}, "muted_channels"},
		{"not a channel", map[string]any{"enabled": true, "muted_channels": []string{"general"}}, "muted_channels"},
		{"someone else's chat", map[string]any{"enabled": true, "muted_channels": []string{"private-chat-alice-carol"}}, "muted_channels"},
		{"chat ids out of order", map[string]any{"enabled": true, "muted_channels": []string{"private-chat-bob-alice"}}, "muted_channels"},
		{"own user channel", map[string]any{"enabled": true, "muted_channels": []string{"private-user-bob"}}, "muted_channels"},
		{"empty room id", map[string]any{"enabled": true, "muted_channels": []string{"private-room-"}}, "muted_channels"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantFieldError(t, a.do("PUT", preferencesPath, "bob", tc.body), http.StatusBadRequest, tc.field)
		})
	}
	if n := a.count(`SELECT count(*) FROM users`); n != 0 {
		t.Errorf("%d users rows written by refused updates", n)
	}

	put := a.do("PUT", preferencesPath, "bob", map[string]any{"enabled": false, "muted_channels": []string{
		"private-chat-alice-bob", "private-room-r1", "private-chat-alice-bob",
	}}).expect(t, http.StatusOK)
	want := `{"enabled":false,"muted_channels":["private-chat-alice-bob","private-room-r1"],"presence_hidden":false}` + "\n"
	if got := string(put.raw); got != want {
		t.Errorf("PUT answered %s, want %s (repeats dropped)", got, want)
	}
	if got := string(a.do("GET", preferencesPath, "bob", nil).expect(t, http.StatusOK).raw); got != want {
		t.Errorf("GET = %s, want %s", got, want)
	}
	// Preferences are the caller's own.
	if got := a.do("GET", preferencesPath, "alice", nil).expect(t, http.StatusOK).field("enabled"); got != true {
		t.Errorf("alice's enabled = %v, want the default", got)
	}
	a.do("POST", preferencesPath, "bob", map[string]any{"enabled": true}).expect(t, http.StatusMethodNotAllowed)
	a.do("GET", preferencesPath, "", nil).expect(t, http.StatusUnauthorized)
}

func TestPreferencesDecideWhetherANotificationIsSent(t *testing.T) {
	a := newApp(t)
	const chat, user = "private-chat-alice-bob", "private-user-bob"
	bob := a.subscriber("bob")
	bob.subscribe(chat)
	bob.subscribe(user)
	setPrefs := func(enabled bool, muted ...string) {
		t.Helper()
		if muted == nil {
			muted = []string{}
		}
		a.do("PUT", preferencesPath, "bob", map[string]any{"enabled": enabled, "muted_channels": muted}).expect(t, http.StatusOK)
	}
	// silent sends a message and checks it reaches bob without a notification,
	// in the event log and on his channel.
	silent := func(why string) {
		t.Helper()
		id := a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": why}).expect(t, http.StatusCreated).field("message", "id")
		if got := decodeData(t, bob.expectEvent("new-message", chat))["id"]; got != id {
			t.Fatalf("new-message for %v, want %v", got, id)
		}
		bob.expectNoEvent("message-notification", 500*time.Millisecond)
		if n := a.count(`SELECT count(*) FROM events WHERE event = 'message-notification' AND data->>'message_id' = $1`, id); n != 0 {
			t.Errorf("%s: a message-notification was stored", why)
		}
		if n := a.count(`SELECT count(*) FROM events WHERE event = 'new-message' AND data->>'id' = $1`, id); n != 1 {
			t.Errorf("%s: %d new-message stored, want 1", why, n)
		}
	}

	setPrefs(false)
	silent("notifications disabled")
	setPrefs(true, chat)
	silent("chat muted")

	setPrefs(true, "private-room-elsewhere")
	body := strings.Repeat("😀", 150)
	id := a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": body}).expect(t, http.StatusCreated).field("message", "id")
	note := decodeData(t, bob.expectEvent("message-notification", user))
	if note["message_id"] != id || note["channel"] != chat {
		t.Errorf("notification = %v", note)
	}
	preview, _ := note["preview"].(string)
	if preview != strings.Repeat("😀", 100) || !utf8.ValidString(preview) {
		t.Errorf("preview has %d runes, want 100 whole emoji: %q", utf8.RuneCountInString(preview), preview)
	}
}
