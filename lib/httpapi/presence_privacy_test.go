package httpapi_test

import (
	"net/http"
	"testing"
	"time"
)

// Issue 11, point 3: a user's status is told only to the users they wrote to
// and the users they share a room with, by every path (GET /api/presence,
// user-status-change over Pusher, poll); a hidden or unknown user reads as
// offline; becoming visible tells the other side at once.
func TestPresenceIsToldOnlyToWhoMaySeeIt(t *testing.T) {
	f := newFaultApp(t, faultOptions{})
	bob := f.subscriber("bob")
	bob.subscribe("private-user-bob")
	alice := f.subscriber("alice")
	alice.subscribe("private-user-alice")
	carol := f.subscriber("carol")
	carol.subscribe("private-user-carol")
	carolCursor := f.do("GET", "/api/messages/poll", "carol", nil).expect(t, http.StatusOK).field("cursor").(string)
	bobCursor := f.do("GET", "/api/messages/poll", "bob", nil).expect(t, http.StatusOK).field("cursor").(string)
	status := func(viewer, target string) map[string]any {
		t.Helper()
		return presenceAs(t, f, viewer, target)
	}
	unknown := func(viewer, target string) {
		t.Helper()
		if got := status(viewer, target); got["online"] != false || got["last_active_at"] != nil {
			t.Errorf("%s sees %s as %v, want offline and never active (unknown)", viewer, target, got)
		}
	}

	t0 := time.Now().Truncate(time.Millisecond)
	f.pusherWebhook(occupied("channel_occupied", "presence-user-alice", t0)).expect(t, http.StatusOK)
	f.pusherWebhook(occupied("channel_occupied", "presence-user-bob", t0)).expect(t, http.StatusOK)
	bob.expectNoEvent("user-status-change", 300*time.Millisecond)
	unknown("bob", "alice")
	unknown("carol", "alice")

	// alice writes to bob: bob is told her status at once and may see it;
	// alice still may not see bob, and carol sees nothing.
	f.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "hi"}).expect(t, http.StatusCreated)
	told := decodeData(t, bob.expectEvent("user-status-change", "private-user-bob"))
	if told["user_id"] != "alice" || told["online"] != true {
		t.Errorf("bob told %v, want alice online", told)
	}
	if got := status("bob", "alice"); got["online"] != true {
		t.Errorf("bob sees alice as %v, want online", got)
	}
	unknown("alice", "bob")
	alice.expectNoEvent("user-status-change", 200*time.Millisecond)

	// bob replies: now alice is told his status.
	f.do("POST", "/api/messages/send", "bob", map[string]any{"to": "alice", "body": "hello"}).expect(t, http.StatusCreated)
	if told := decodeData(t, alice.expectEvent("user-status-change", "private-user-alice")); told["user_id"] != "bob" || told["online"] != true {
		t.Errorf("alice told %v, want bob online", told)
	}

	// A shared room: carol joins alice's room and both are told at once.
	f.pusherWebhook(occupied("channel_occupied", "presence-user-carol", t0)).expect(t, http.StatusOK)
	room := f.do("POST", "/api/rooms", "alice", map[string]any{"name": "Ops"}).expect(t, http.StatusCreated).field("room", "id")
	f.do("POST", "/api/rooms/join", "carol", map[string]any{"room_id": room}).expect(t, http.StatusOK)
	if told := decodeData(t, carol.expectEvent("user-status-change", "private-user-carol")); told["user_id"] != "alice" {
		t.Errorf("carol told %v, want alice's status", told)
	}
	if got := status("carol", "alice"); got["online"] != true {
		t.Errorf("carol sees alice as %v after sharing a room, want online", got)
	}
	unknown("carol", "bob")

	// alice hides her status: everyone who saw it is told she is offline,
	// and she reads as unknown to them; she still sees her own.
	prefs := f.do("PUT", "/api/notifications/preferences", "alice", map[string]any{"enabled": true, "muted_channels": []string{}, "presence_hidden": true}).expect(t, http.StatusOK)
	if prefs.field("presence_hidden") != true {
		t.Errorf("preferences = %v, want presence_hidden true", prefs.body)
	}
	for channel, s := range map[string]*subscriber{"private-user-bob": bob, "private-user-carol": carol} {
		if told := decodeData(t, s.expectEvent("user-status-change", channel)); told["user_id"] != "alice" || told["online"] != false || told["last_active_at"] != nil {
			t.Errorf("told %v, want alice offline and never active", told)
		}
	}
	unknown("bob", "alice")
	unknown("carol", "alice")
	if got := status("alice", "alice"); got["online"] != true {
		t.Errorf("alice sees herself as %v, want online", got)
	}
	f.pusherWebhook(occupied("channel_vacated", "presence-user-alice", t0.Add(time.Second))).expect(t, http.StatusOK)
	bob.expectNoEvent("user-status-change", 300*time.Millisecond)
	if got := f.do("GET", "/api/notifications/preferences", "alice", nil).expect(t, http.StatusOK).field("presence_hidden"); got != true {
		t.Errorf("GET preferences presence_hidden = %v, want true", got)
	}

	// Poll tells the same: bob's poll carries alice's statuses, carol's
	// carries none about bob.
	bobEvents, _ := f.pollUntil("bob", bobCursor, 1)
	if !hasStatusOf(bobEvents, "alice") {
		t.Errorf("bob's poll has no status of alice: %v", bobEvents)
	}
	carolEvents := f.pollQuiet("carol", carolCursor)
	if hasStatusOf(carolEvents, "bob") {
		t.Errorf("carol's poll tells her bob's status: %v", carolEvents)
	}
}

// presenceAs returns target's status as GET /api/presence answers viewer.
func presenceAs(t *testing.T, f *faultApp, viewer, target string) map[string]any {
	t.Helper()
	users := f.do("GET", "/api/presence?user_ids="+target, viewer, nil).expect(t, http.StatusOK).field("users").([]any)
	return users[0].(map[string]any)
}

func hasStatusOf(events []map[string]any, user string) bool {
	for _, e := range events {
		if e["event"] == "user-status-change" {
			if d, ok := e["data"].(map[string]any); ok && d["user_id"] == user {
				return true
			}
		}
	}
	return false
}

// Being added to a room is not consent: mallory creates a private room and
// adds bob, and by no path (GET /api/presence, user-status-change over
// Pusher, poll) does she learn bob's status, while bob is told hers. When
// bob joins the room himself he accepts: mallory is told his status at once
// and may see it.
func TestAddingSomeoneToARoomDoesNotRevealTheirStatus(t *testing.T) {
	f := newFaultApp(t, faultOptions{})
	mallory := f.subscriber("mallory")
	mallory.subscribe("private-user-mallory")
	bob := f.subscriber("bob")
	bob.subscribe("private-user-bob")
	malloryCursor := f.do("GET", "/api/messages/poll", "mallory", nil).expect(t, http.StatusOK).field("cursor").(string)
	status := func(viewer, target string) map[string]any {
		t.Helper()
		return presenceAs(t, f, viewer, target)
	}

	t0 := time.Now().Truncate(time.Millisecond)
	f.pusherWebhook(occupied("channel_occupied", "presence-user-mallory", t0)).expect(t, http.StatusOK)
	room := f.do("POST", "/api/rooms", "mallory", map[string]any{"name": "Trap", "visibility": "private"}).expect(t, http.StatusCreated).field("room", "id")
	if joined := f.do("POST", "/api/rooms/join", "mallory", map[string]any{"room_id": room, "user_id": "bob"}).expect(t, http.StatusOK).field("joined"); joined != true {
		t.Fatalf("mallory's add of bob: joined = %v, want true", joined)
	}
	// bob sees mallory: she joined her own room, and her add told him.
	if told := decodeData(t, bob.expectEvent("user-status-change", "private-user-bob")); told["user_id"] != "mallory" || told["online"] != true {
		t.Errorf("bob told %v, want mallory online", told)
	}
	if got := status("bob", "mallory"); got["online"] != true {
		t.Errorf("bob sees mallory as %v, want online", got)
	}

	// bob comes online: mallory is told nothing and reads him as unknown.
	f.pusherWebhook(occupied("channel_occupied", "presence-user-bob", t0)).expect(t, http.StatusOK)
	mallory.expectNoEvent("user-status-change", 300*time.Millisecond)
	if got := status("mallory", "bob"); got["online"] != false || got["last_active_at"] != nil {
		t.Errorf("mallory sees bob as %v, want offline and never active (unknown)", got)
	}
	// Her poll carries the room's two user-joined events and nothing about bob.
	events, cursor := f.pollUntil("mallory", malloryCursor, 2)
	if hasStatusOf(events, "bob") {
		t.Errorf("mallory's poll tells her bob's status: %v", events)
	}

	// bob joins himself: his acceptance. The membership is the one he had
	// (joined false), and mallory is told his status at once.
	f.do("POST", "/api/rooms/join", "bob", map[string]any{"room_id": room}).expect(t, http.StatusOK)
	if told := decodeData(t, mallory.expectEvent("user-status-change", "private-user-mallory")); told["user_id"] != "bob" || told["online"] != true {
		t.Errorf("mallory told %v, want bob online", told)
	}
	if got := status("mallory", "bob"); got["online"] != true {
		t.Errorf("mallory sees bob as %v after he joined himself, want online", got)
	}
	if events, _ := f.pollUntil("mallory", cursor, 1); !hasStatusOf(events, "bob") {
		t.Errorf("mallory's poll after bob's acceptance has no status of bob: %v", events)
	}
}
