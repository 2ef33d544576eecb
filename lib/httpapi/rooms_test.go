package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// createRoom creates a room as the user and returns its id.
func (a *app) createRoom(user, visibility string) string {
	a.t.Helper()
	res := a.do("POST", "/api/rooms", user, map[string]any{"name": "room of " + user, "visibility": visibility}).expect(a.t, http.StatusCreated)
	id, _ := res.field("room", "id").(string)
	if id == "" {
		a.t.Fatalf("no room id: %s", res.raw)
	}
	return id
}

// roomChannel is the channel of a room; ids chatwire makes are plain hex,
// which enc leaves as they are.
func roomChannel(id string) string { return "private-room-" + id }

// wantFieldError checks a 4xx answer names the field.
func wantFieldError(t *testing.T, res response, status int, field string) {
	t.Helper()
	res.expect(t, status)
	fields, _ := res.field("error", "fields").(map[string]any)
	if _, ok := fields[field]; !ok {
		t.Errorf("fields = %v, want %q named; body %s", fields, field, res.raw)
	}
}

func TestRoomJoinAndLeaveReachSubscribedMembers(t *testing.T) {
	a := newApp(t)
	res := a.do("POST", "/api/rooms", "alice", map[string]any{"name": "  Lobby  "}).expect(t, http.StatusCreated)
	for key, want := range map[string]any{"name": "Lobby", "visibility": "public", "created_by": "alice", "member": true} {
		if got := res.field("room", key); got != want {
			t.Errorf("room.%s = %v, want %v", key, got, want)
		}
	}
	if at, _ := res.field("room", "created_at").(string); !strings.HasSuffix(at, "Z") {
		t.Errorf("created_at = %q", at)
	}
	room := res.field("room", "id").(string)
	ch := roomChannel(room)

	alice := a.subscriber("alice")
	alice.subscribe(ch)

	join := a.do("POST", "/api/rooms/join", "bob", map[string]any{"room_id": room}).expect(t, http.StatusOK)
	if join.field("member", "room_id") != room || join.field("member", "user_id") != "bob" || join.field("joined") != true {
		t.Errorf("join = %s", join.raw)
	}
	joined := decodeData(t, alice.expectEvent("user-joined", ch))
	if joined["user_id"] != "bob" || joined["name"] != "Bob" || joined["joined_at"] != join.field("member", "joined_at") {
		t.Errorf("user-joined = %v, answer %s", joined, join.raw)
	}

	// Joining twice answers the same membership and sends nothing.
	again := a.do("POST", "/api/rooms/join", "bob", map[string]any{"room_id": room}).expect(t, http.StatusOK)
	if again.field("joined") != false || again.field("member", "joined_at") != join.field("member", "joined_at") {
		t.Errorf("second join = %s", again.raw)
	}
	alice.expectNoEvent("user-joined", 500*time.Millisecond)

	bob := a.subscriber("bob")
	bob.subscribe(ch).expect(t, http.StatusOK)

	leave := a.do("POST", "/api/rooms/leave", "bob", map[string]any{"room_id": room}).expect(t, http.StatusOK)
	if leave.field("left") != true {
		t.Errorf("leave = %s", leave.raw)
	}
	left := decodeData(t, alice.expectEvent("user-left", ch))
	if left["user_id"] != "bob" || left["left_at"] != leave.field("left_at") {
		t.Errorf("user-left = %v, answer %s", left, leave.raw)
	}

	// Leaving again is answered, and sends nothing.
	if got := a.do("POST", "/api/rooms/leave", "bob", map[string]any{"room_id": room}).expect(t, http.StatusOK); got.field("left") != false || got.field("left_at") != nil {
		t.Errorf("second leave = %s", got.raw)
	}
	alice.expectNoEvent("user-left", 500*time.Millisecond)

	// A former member can no longer subscribe.
	a.subscriber("bob").subscribe(ch).expect(t, http.StatusForbidden)
	a.do("POST", "/api/rooms/leave", "bob", map[string]any{"room_id": "nowhere"}).expect(t, http.StatusNotFound)
	a.do("POST", "/api/rooms/join", "bob", map[string]any{"room_id": "nowhere"}).expect(t, http.StatusNotFound)
}

func TestOnlyCurrentMembersTalkInARoom(t *testing.T) {
	a := newApp(t)
	bobCursor := a.do("GET", "/api/messages/poll", "bob", nil).expect(t, http.StatusOK).field("cursor").(string)
	carolCursor := a.do("GET", "/api/messages/poll", "carol", nil).expect(t, http.StatusOK).field("cursor").(string)
	room := a.createRoom("alice", "public")
	ch := roomChannel(room)
	a.do("POST", "/api/rooms/join", "bob", map[string]any{"room_id": room}).expect(t, http.StatusOK)
	alice := a.subscriber("alice")
	alice.subscribe(ch)

	// carol is not a member: nothing in the room is hers.
	wantFieldError(t, a.do("POST", "/api/messages/send", "carol", map[string]any{"room_id": room, "body": "let me in"}), http.StatusForbidden, "room_id")
	wantFieldError(t, a.do("GET", "/api/messages/history?room_id="+room, "carol", nil), http.StatusForbidden, "room_id")
	wantFieldError(t, a.do("POST", "/api/typing", "carol", map[string]any{"room_id": room, "typing": true}), http.StatusForbidden, "room_id")
	a.subscriber("carol").subscribe(ch).expect(t, http.StatusForbidden)

	// bob is: he sends, reads, types and polls.
	sent := a.do("POST", "/api/messages/send", "bob", map[string]any{"room_id": room, "body": "hello room"}).expect(t, http.StatusCreated)
	if got := sent.field("message", "channel"); got != ch {
		t.Errorf("channel = %v, want %v", got, ch)
	}
	if got := decodeData(t, alice.expectEvent("new-message", ch))["body"]; got != "hello room" {
		t.Errorf("alice got body %v", got)
	}
	history := a.do("GET", "/api/messages/history?room_id="+room, "bob", nil).expect(t, http.StatusOK)
	if msgs := history.field("messages").([]any); len(msgs) != 1 || msgs[0].(map[string]any)["id"] != sent.field("message", "id") {
		t.Errorf("history = %s", history.raw)
	}
	a.do("POST", "/api/typing", "bob", map[string]any{"room_id": room, "typing": true}).expect(t, http.StatusOK)
	if got := decodeData(t, alice.expectEvent("typing-start", ch))["user_id"]; got != "bob" {
		t.Errorf("typing-start from %v", got)
	}
	// Poll filters by current membership: bob, a member now, also gets the
	// room's events from before he joined that are past his cursor.
	events, bobCursor := a.pollUntil("bob", bobCursor, 3)
	if got, want := eventNames(events), "user-joined,user-joined,new-message"; got != want {
		t.Errorf("bob polled %s, want %s", got, want)
	}

	// Once bob leaves, the room is closed to him: later room events are not
	// polled, though a later message to him is.
	a.do("POST", "/api/rooms/leave", "bob", map[string]any{"room_id": room}).expect(t, http.StatusOK)
	a.do("POST", "/api/messages/send", "bob", map[string]any{"room_id": room, "body": "still here?"}).expect(t, http.StatusForbidden)
	a.do("GET", "/api/messages/history?room_id="+room, "bob", nil).expect(t, http.StatusForbidden)
	a.do("POST", "/api/typing", "bob", map[string]any{"room_id": room, "typing": false}).expect(t, http.StatusForbidden)
	a.do("POST", "/api/messages/send", "alice", map[string]any{"room_id": room, "body": "after bob"}).expect(t, http.StatusCreated)
	a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "marker"}).expect(t, http.StatusCreated)
	// Poll is ordered and gap-free: once the marker is in, anything before it
	// bob could see is in too.
	events, _ = a.pollUntil("bob", bobCursor, 2)
	if got, want := eventNames(events), "new-message,message-notification"; got != want || events[0]["channel"] == ch {
		t.Errorf("bob polled %s after leaving, want only the marker's %s", got, want)
	}

	a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "carol", "body": "marker"}).expect(t, http.StatusCreated)
	events, _ = a.pollUntil("carol", carolCursor, 2)
	if got, want := eventNames(events), "new-message,message-notification"; got != want || events[0]["channel"] == ch {
		t.Errorf("carol polled %s, want only the marker's %s", got, want)
	}
}

func TestPrivateRoomsAreJoinedByInvitation(t *testing.T) {
	a := newApp(t)
	priv := a.createRoom("owner", "private")
	pub := a.createRoom("owner", "public")
	owner := a.subscriber("owner")
	owner.subscribe(roomChannel(priv))

	wantFieldError(t, a.do("POST", "/api/rooms/join", "bob", map[string]any{"room_id": priv}), http.StatusForbidden, "room_id")
	a.subscriber("bob").subscribe(roomChannel(priv)).expect(t, http.StatusForbidden)

	added := a.do("POST", "/api/rooms/join", "owner", map[string]any{"room_id": priv, "user_id": "bob"}).expect(t, http.StatusOK)
	if added.field("member", "user_id") != "bob" || added.field("joined") != true {
		t.Errorf("added = %s", added.raw)
	}
	if got := decodeData(t, owner.expectEvent("user-joined", roomChannel(priv)))["user_id"]; got != "bob" {
		t.Errorf("user-joined for %v", got)
	}
	a.subscriber("bob").subscribe(roomChannel(priv)).expect(t, http.StatusOK)

	// Only the creator adds anyone, to private and public rooms alike.
	wantFieldError(t, a.do("POST", "/api/rooms/join", "bob", map[string]any{"room_id": priv, "user_id": "carol"}), http.StatusForbidden, "user_id")
	wantFieldError(t, a.do("POST", "/api/rooms/join", "bob", map[string]any{"room_id": pub, "user_id": "carol"}), http.StatusForbidden, "user_id")
	// Naming oneself is a plain join.
	a.do("POST", "/api/rooms/join", "carol", map[string]any{"room_id": pub, "user_id": "carol"}).expect(t, http.StatusOK)

	rooms := func(user string) map[string]bool {
		res := a.do("GET", "/api/rooms", user, nil).expect(t, http.StatusOK)
		out := map[string]bool{}
		for _, r := range res.field("rooms").([]any) {
			room := r.(map[string]any)
			out[room["id"].(string)] = room["member"].(bool)
		}
		return out
	}
	if got := rooms("bob"); len(got) != 2 || !got[priv] || got[pub] {
		t.Errorf("bob's list = %v, want the private room (member) and the public one", got)
	}
	if got := rooms("carol"); len(got) != 1 || !got[pub] {
		t.Errorf("carol's list = %v, want only the public room she joined", got)
	}
	if got := rooms("dave"); len(got) != 1 || got[pub] {
		t.Errorf("dave's list = %v, want the public room, not a member", got)
	}
}

func TestRoomRequestsAreValidated(t *testing.T) {
	a := newApp(t)
	cases := []struct {
		name  string
		path  string
		body  any
		field string
	}{
		{"no name", "/api/rooms", map[string]any{"visibility": "public"}, "name"},
		{"blank name", "/api/rooms", map[string]any{"name": " \t "}, "name"},
		{"name of 101 characters", "/api/rooms", map[string]any{"name": strings.Repeat("é", 101)}, "name"},
		{"name not a string", "/api/rooms", map[string]any{"name": 7}, "name"},
		{"unknown visibility", "/api/rooms", map[string]any{"name": "x", "visibility": "secret"}, "visibility"},
		{"join without room", "/api/rooms/join", map[string]any{}, "room_id"},
		{"join with a huge room id", "/api/rooms/join", map[string]any{"room_id": strings.Repeat("r", 151)}, "room_id"},
		{"join with a huge user id", "/api/rooms/join", map[string]any{"room_id": "r", "user_id": strings.Repeat("u", 151)}, "user_id"},
		{"room id too long for a channel", "/api/rooms/join", map[string]any{"room_id": strings.Repeat("-", 60)}, "room_id"},
		{"leave without room", "/api/rooms/leave", map[string]any{"room_id": ""}, "room_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantFieldError(t, a.do("POST", tc.path, "alice", tc.body), http.StatusBadRequest, tc.field)
		})
	}
	if n := a.count(`SELECT count(*) FROM rooms`); n != 0 {
		t.Errorf("%d rooms stored from bad input", n)
	}

	name := strings.Repeat("😀", 100)
	res := a.do("POST", "/api/rooms", "alice", map[string]any{"name": name, "visibility": "private"}).expect(t, http.StatusCreated)
	if got, _ := res.field("room", "name").(string); got != name || utf8.RuneCountInString(got) != 100 {
		t.Errorf("name of 100 emoji came back as %q", got)
	}
	a.do("GET", "/api/rooms/join", "alice", nil).expect(t, http.StatusMethodNotAllowed)
	a.do("DELETE", "/api/rooms", "alice", nil).expect(t, http.StatusMethodNotAllowed)
	a.do("GET", "/api/rooms", "", nil).expect(t, http.StatusUnauthorized)
}

// count runs a counting query on the app's database.
func (a *app) count(sql string, args ...any) int {
	a.t.Helper()
	var n int
	if err := a.pool.QueryRow(a.t.Context(), sql, args...).Scan(&n); err != nil {
		a.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func eventNames(events []map[string]any) string {
	names := make([]string, 0, len(events))
	for _, e := range events {
		names = append(names, e["event"].(string))
	}
	return strings.Join(names, ",")
}
