package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/store"
)

// wantRateLimited checks a 429 rate_limited with a Retry-After of 1 s to max.
func wantRateLimited(t *testing.T, res response, max time.Duration) {
	t.Helper()
	res.expect(t, http.StatusTooManyRequests)
	if got := res.field("error", "code"); got != "rate_limited" {
		t.Errorf("code = %v, want rate_limited", got)
	}
	secs, err := strconv.Atoi(res.header.Get("Retry-After"))
	if err != nil || secs < 1 || time.Duration(secs)*time.Second > max+time.Second {
		t.Errorf("Retry-After = %q, want 1 s to %v", res.header.Get("Retry-After"), max)
	}
}

// Issue 11, points 4 and 5: room creations, adds by a creator and typing
// starts are limited per user across instances (Postgres), rooms are capped,
// and a stop goes only after a start. Windows of an hour: no run outlasts a
// refill.
func TestAbuseLimitsOnRoomsAndTyping(t *testing.T) {
	env := map[string]string{
		"SEND_RATE_LIMIT":   "off",
		"ROOM_CREATE_LIMIT": "3/1h",
		"ROOM_ADD_LIMIT":    "2/1h",
		"ROOM_MAX_MEMBERS":  "3",
		"TYPING_RATE_LIMIT": "3/1h",
	}
	pool1, dbURL := dbtest.NewPool(t)
	pool2, err := store.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool2.Close)
	r := newRelApp(t, relOptions{env: env, dbURL: dbURL, pool: pool1})
	// A second instance on the same database shares every bucket.
	other := newRelApp(t, relOptions{env: env, dbURL: dbURL, pool: pool2})

	var rooms []string
	for i := range 3 {
		a := r.app
		if i == 1 {
			a = other.app
		}
		rooms = append(rooms, a.do("POST", "/api/rooms", "spammer", map[string]any{"name": fmt.Sprint("spam ", i)}).expect(t, http.StatusCreated).field("room", "id").(string))
	}
	wantRateLimited(t, other.do("POST", "/api/rooms", "spammer", map[string]any{"name": "one too many"}), time.Hour)
	r.do("POST", "/api/rooms", "alice", map[string]any{"name": "alice's own"}).expect(t, http.StatusCreated)
	if got := queryCount(t, r, `SELECT count(*) FROM rooms WHERE created_by = 'spammer'`); got != 3 {
		t.Errorf("spammer has %d rooms, want 3", got)
	}

	// Adds by the creator: 2 per hour, and the room holds 3 members. Adding
	// a member again adds no one and spends nothing.
	r.do("POST", "/api/rooms/join", "spammer", map[string]any{"room_id": rooms[0], "user_id": "v1"}).expect(t, http.StatusOK)
	for range 3 {
		r.do("POST", "/api/rooms/join", "spammer", map[string]any{"room_id": rooms[0], "user_id": "v1"}).expect(t, http.StatusOK)
	}
	other.do("POST", "/api/rooms/join", "spammer", map[string]any{"room_id": rooms[0], "user_id": "v2"}).expect(t, http.StatusOK)
	wantRateLimited(t, r.do("POST", "/api/rooms/join", "spammer", map[string]any{"room_id": rooms[1], "user_id": "v3"}), time.Hour)
	full := r.do("POST", "/api/rooms/join", "carol", map[string]any{"room_id": rooms[0]}).expect(t, http.StatusConflict)
	if !namesField(fieldsOf(full), "room_id") {
		t.Errorf("full room: %s, want a conflict naming room_id", full.raw)
	}
	if got := queryCount(t, r, `SELECT count(*) FROM room_members WHERE room_id = '`+rooms[0]+`'`); got != 3 {
		t.Errorf("room has %d members, want the cap of 3", got)
	}
	// Joining oneself is not an add: carol joins another room freely.
	r.do("POST", "/api/rooms/join", "carol", map[string]any{"room_id": rooms[1]}).expect(t, http.StatusOK)

	// Typing: 3 starts per hour across all chats; throttled repeats spend
	// nothing; a stop goes only after a sent start.
	bob := r.subscriber("bob")
	bob.subscribe("private-chat-bob-typist")
	stop := r.do("POST", "/api/typing", "typist", map[string]any{"to": "bob", "typing": false}).expect(t, http.StatusOK)
	if stop.field("sent") != false {
		t.Errorf("a stop without a start: %s, want sent false", stop.raw)
	}
	bob.expectNoEvent("typing-stop", 200*time.Millisecond)
	r.do("POST", "/api/typing", "typist", map[string]any{"to": "bob", "typing": true}).expect(t, http.StatusOK)
	bob.expectEvent("typing-start", "private-chat-bob-typist")
	for range 5 { // keystrokes within the second: throttled, free
		if res := r.do("POST", "/api/typing", "typist", map[string]any{"to": "bob", "typing": true}).expect(t, http.StatusOK); res.field("sent") != false {
			t.Fatalf("a repeated start within the interval was sent: %s", res.raw)
		}
	}
	for _, to := range []string{"u1", "u2"} {
		other.do("POST", "/api/typing", "typist", map[string]any{"to": to, "typing": true}).expect(t, http.StatusOK)
	}
	wantRateLimited(t, r.do("POST", "/api/typing", "typist", map[string]any{"to": "u3", "typing": true}), time.Hour)
	if res := r.do("POST", "/api/typing", "typist", map[string]any{"to": "u3", "typing": false}).expect(t, http.StatusOK); res.field("sent") != false {
		t.Errorf("a stop after a refused start was sent: %s", res.raw)
	}
	if res := r.do("POST", "/api/typing", "typist", map[string]any{"to": "bob", "typing": false}).expect(t, http.StatusOK); res.field("sent") != true {
		t.Errorf("the stop after a sent start: %s, want sent", res.raw)
	}
	bob.expectEvent("typing-stop", "private-chat-bob-typist")
	for range 3 {
		r.do("POST", "/api/typing", "typist", map[string]any{"to": "bob", "typing": false}).expect(t, http.StatusOK)
	}
	bob.expectNoEvent("typing-stop", 300*time.Millisecond)
}

// GET /api/rooms pages with a cursor, and a prefix finds a real room however
// many newer rooms bury it (issue 11, point 4).
func TestRoomListingPagesAndFindsRoomsByPrefix(t *testing.T) {
	r := newRelApp(t, relOptions{env: map[string]string{"ROOM_CREATE_LIMIT": "off"}})
	real := r.do("POST", "/api/rooms", "owner", map[string]any{"name": "Book club"}).expect(t, http.StatusCreated).field("room", "id").(string)
	for i := range 25 {
		r.do("POST", "/api/rooms", "spammer", map[string]any{"name": fmt.Sprint("spam ", i)}).expect(t, http.StatusCreated)
	}
	seen := map[string]bool{}
	cursor := ""
	for page := 0; ; page++ {
		path := "/api/rooms?limit=10"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		res := r.do("GET", path, "carol", nil).expect(t, http.StatusOK)
		for _, room := range res.field("rooms").([]any) {
			id := room.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("room %s listed twice", id)
			}
			seen[id] = true
		}
		next, _ := res.field("next_cursor").(string)
		if next == "" {
			break
		}
		cursor = next
		if page > 5 {
			t.Fatal("listing does not end")
		}
	}
	if len(seen) != 26 || !seen[real] {
		t.Errorf("paged through %d rooms (real one seen: %v), want all 26", len(seen), seen[real])
	}
	found := r.do("GET", "/api/rooms?prefix=book", "carol", nil).expect(t, http.StatusOK).field("rooms").([]any)
	if len(found) != 1 || found[0].(map[string]any)["id"] != real {
		t.Errorf("prefix book: %v, want the book club", found)
	}
	for _, bad := range []string{"?limit=0", "?limit=201", "?cursor=garbage!", "?prefix=%00"} {
		res := r.do("GET", "/api/rooms"+bad, "carol", nil).expect(t, http.StatusBadRequest)
		if len(fieldsOf(res)) == 0 {
			t.Errorf("%s: %s, want a field named", bad, res.raw)
		}
	}
}

func queryCount(t *testing.T, r *relApp, sql string) int {
	t.Helper()
	var n int
	if err := r.pool.QueryRow(t.Context(), sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}
