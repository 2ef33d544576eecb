package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestEditDeleteAndReactOverHTTP(t *testing.T) {
	a := newApp(t)
	bob := a.subscriber("bob")
	bob.subscribe("private-chat-alice-bob")
	sent := a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "hi"}).expect(t, http.StatusCreated)
	id := sent.field("message", "id").(string)
	if sent.field("message", "version") != 1.0 || sent.field("message", "edited_at") != nil || sent.field("message", "deleted_at") != nil {
		t.Errorf("a new message: %s", sent.raw)
	}
	created := decodeData(t, bob.expectEvent("new-message", "private-chat-alice-bob"))
	if created["version"] != 1.0 || sprint(created["reactions"]) != "[]" {
		t.Errorf("new-message carries %v, want version 1 and no reactions", created)
	}

	// Edit: sender only, 404 for no such message, the limits of send.
	a.do("POST", "/api/messages/edit", "bob", map[string]any{"id": id, "body": "hijack"}).expect(t, http.StatusForbidden)
	a.do("POST", "/api/messages/edit", "alice", map[string]any{"id": "6f1c1f8e-1111-4111-8111-111111111111", "body": "x"}).expect(t, http.StatusNotFound)
	tooLong := a.do("POST", "/api/messages/edit", "alice", map[string]any{"id": id, "body": strings.Repeat("é", 4001)}).expect(t, http.StatusBadRequest)
	if tooLong.field("error", "fields", "body") == nil {
		t.Errorf("too long: %s", tooLong.raw)
	}
	badID := a.do("POST", "/api/messages/edit", "alice", map[string]any{"id": "nope", "body": "x"}).expect(t, http.StatusBadRequest)
	if badID.field("error", "fields", "id") == nil {
		t.Errorf("bad id: %s", badID.raw)
	}
	edited := a.do("POST", "/api/messages/edit", "alice", map[string]any{"id": id, "body": " hello "}).expect(t, http.StatusOK)
	if edited.field("message", "body") != "hello" || edited.field("message", "version") != 2.0 || edited.field("message", "edited_at") == nil {
		t.Errorf("edit answer: %s", edited.raw)
	}
	updated := decodeData(t, bob.expectEvent("message-updated", "private-chat-alice-bob"))
	if updated["id"] != id || updated["body"] != "hello" || updated["version"] != 2.0 || updated["edited_at"] != edited.field("message", "edited_at") {
		t.Errorf("message-updated: %v", updated)
	}

	// React: members of the conversation; a repeat sends nothing.
	reacted := a.do("POST", "/api/messages/react", "bob", map[string]any{"id": id, "emoji": "👍🏽", "on": true}).expect(t, http.StatusOK)
	if reacted.field("message_id") != id || reacted.field("channel") != "private-chat-alice-bob" || reacted.field("user_id") != "bob" ||
		reacted.field("on") != true || sprint(reacted.field("reactions")) != "[map[count:1 emoji:👍🏽 users:[bob]]]" {
		t.Errorf("react answer: %s", reacted.raw)
	}
	changed := decodeData(t, bob.expectEvent("reaction-changed", "private-chat-alice-bob"))
	if changed["message_id"] != id || changed["emoji"] != "👍🏽" || changed["user_id"] != "bob" || changed["on"] != true ||
		sprint(changed["reactions"]) != sprint(reacted.field("reactions")) {
		t.Errorf("reaction-changed: %v", changed)
	}
	a.do("POST", "/api/messages/react", "bob", map[string]any{"id": id, "emoji": "👍🏽", "on": true}).expect(t, http.StatusOK)
	bob.expectNoEvent("reaction-changed", 300*time.Millisecond)
	a.do("POST", "/api/messages/react", "carol", map[string]any{"id": id, "emoji": "👍", "on": true}).expect(t, http.StatusForbidden)
	for _, emoji := range []string{"", "a", "👍👍", "hi 👍", strings.Repeat("👍", 9), "\u0007"} {
		res := a.do("POST", "/api/messages/react", "bob", map[string]any{"id": id, "emoji": emoji, "on": true}).expect(t, http.StatusBadRequest)
		if res.field("error", "fields", "emoji") == nil {
			t.Errorf("emoji %q: %s", emoji, res.raw)
		}
	}
	for _, ok := range []string{"🇫🇷", "👨‍👩‍👧", "1️⃣", "❤️"} {
		a.do("POST", "/api/messages/react", "bob", map[string]any{"id": id, "emoji": ok, "on": true}).expect(t, http.StatusOK)
	}
	noOn := a.do("POST", "/api/messages/react", "bob", map[string]any{"id": id, "emoji": "👍"}).expect(t, http.StatusBadRequest)
	if noOn.field("error", "fields", "on") == nil {
		t.Errorf("without on: %s", noOn.raw)
	}

	// Delete: a tombstone; again, 200 and nothing sent; no edit revives it.
	a.do("POST", "/api/messages/delete", "bob", map[string]any{"id": id}).expect(t, http.StatusForbidden)
	gone := a.do("POST", "/api/messages/delete", "alice", map[string]any{"id": id}).expect(t, http.StatusOK)
	if gone.field("message", "body") != "" || gone.field("message", "deleted_at") == nil {
		t.Errorf("delete answer: %s", gone.raw)
	}
	deleted := decodeData(t, bob.expectEvent("message-deleted", "private-chat-alice-bob"))
	if deleted["id"] != id || deleted["channel"] != "private-chat-alice-bob" || deleted["deleted_at"] != gone.field("message", "deleted_at") ||
		deleted["version"] != gone.field("message", "version") {
		t.Errorf("message-deleted: %v", deleted)
	}
	again := a.do("POST", "/api/messages/delete", "alice", map[string]any{"id": id}).expect(t, http.StatusOK)
	if again.field("message", "version") != gone.field("message", "version") {
		t.Errorf("delete again changed the version: %s", again.raw)
	}
	bob.expectNoEvent("message-deleted", 300*time.Millisecond)
	a.do("POST", "/api/messages/edit", "alice", map[string]any{"id": id, "body": "I'm back"}).expect(t, http.StatusConflict)

	// History shows the current version.
	history := a.do("GET", "/api/messages/history?with=alice", "bob", nil).expect(t, http.StatusOK)
	m := history.field("messages").([]any)[0].(map[string]any)
	if m["body"] != "" || m["deleted_at"] == nil || m["version"] != gone.field("message", "version") {
		t.Errorf("history: %v", m)
	}
}

// Edits count against the sender's rate limit like sends.
func TestEditsShareTheSendRateLimit(t *testing.T) {
	r := newRelApp(t, relOptions{env: map[string]string{"SEND_RATE_LIMIT": "2/1h"}})
	id := r.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "1"}).expect(t, http.StatusCreated).field("message", "id").(string)
	r.do("POST", "/api/messages/edit", "alice", map[string]any{"id": id, "body": "2"}).expect(t, http.StatusOK)
	res := r.do("POST", "/api/messages/edit", "alice", map[string]any{"id": id, "body": "3"}).expect(t, http.StatusTooManyRequests)
	if res.field("error", "code") != "rate_limited" || res.header.Get("Retry-After") == "" {
		t.Errorf("third change: %s", res.raw)
	}
}
