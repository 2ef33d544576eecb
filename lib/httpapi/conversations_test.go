package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

func TestConversationsListWithUnreadCountsAndPaging(t *testing.T) {
	a := newApp(t)
	a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "one"}).expect(t, http.StatusCreated)
	last := a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "two"}).expect(t, http.StatusCreated)
	room := a.do("POST", "/api/rooms", "carol", map[string]any{"name": "Ops", "visibility": "public"}).expect(t, http.StatusCreated).field("room", "id").(string)
	a.do("POST", "/api/rooms/join", "bob", map[string]any{"room_id": room}).expect(t, http.StatusOK)

	list := a.do("GET", "/api/conversations", "bob", nil).expect(t, http.StatusOK)
	items := list.field("conversations").([]any)
	if len(items) != 2 || list.field("next_before") != nil {
		t.Fatalf("bob's list: %s", list.raw)
	}
	// The join is the newest activity.
	roomItem, chatItem := items[0].(map[string]any), items[1].(map[string]any)
	if roomItem["id"] != "room:"+room || roomItem["kind"] != "room" || roomItem["channel"] != "private-room-"+room ||
		sprint(roomItem["room"]) != fmt.Sprintf("map[id:%s name:Ops visibility:public]", room) ||
		roomItem["last_message"] != nil || roomItem["unread_count"] != 0.0 || roomItem["with"] != nil {
		t.Errorf("room item: %v", roomItem)
	}
	lastMessage, _ := chatItem["last_message"].(map[string]any)
	if chatItem["id"] != "chat:alice" || chatItem["kind"] != "chat" || chatItem["channel"] != "private-chat-alice-bob" ||
		sprint(chatItem["with"]) != "map[id:alice name:Alice]" || chatItem["unread_count"] != 2.0 ||
		chatItem["last_read_at"] != nil || chatItem["updated_at"] != last.field("message", "created_at") ||
		lastMessage["id"] != last.field("message", "id") || lastMessage["version"] != 1.0 || sprint(lastMessage["reactions"]) != "[]" {
		t.Errorf("chat item: %v", chatItem)
	}

	// Paging, one at a time, reaches both and then stops.
	first := a.do("GET", "/api/conversations?limit=1", "bob", nil).expect(t, http.StatusOK)
	next, _ := first.field("next_before").(string)
	if next == "" {
		t.Fatalf("first page: %s", first.raw)
	}
	second := a.do("GET", "/api/conversations?limit=1&before="+url.QueryEscape(next), "bob", nil).expect(t, http.StatusOK)
	if got := second.field("conversations").([]any)[0].(map[string]any)["id"]; got != "chat:alice" {
		t.Errorf("second page = %v, want chat:alice", got)
	}

	for _, bad := range []struct{ query, field string }{
		{"limit=0", "limit"}, {"limit=101", "limit"}, {"limit=x", "limit"}, {"before=not-a-cursor", "before"},
	} {
		res := a.do("GET", "/api/conversations?"+bad.query, "bob", nil).expect(t, http.StatusBadRequest)
		if res.field("error", "fields", bad.field) == nil {
			t.Errorf("%s: %s, want fields.%s", bad.query, res.raw, bad.field)
		}
	}
	a.do("GET", "/api/conversations", "", nil).expect(t, http.StatusUnauthorized)
}

// Every read, from any device, clears the badge on every other device:
// conversation-read on private-user-{reader}, for chats and rooms alike.
func TestReadsTellEveryDeviceOfTheReader(t *testing.T) {
	a := newApp(t)
	otherTab := a.subscriber("bob")
	otherTab.subscribe("private-user-bob")
	room := a.do("POST", "/api/rooms", "carol", map[string]any{"name": "Ops", "visibility": "public"}).expect(t, http.StatusCreated).field("room", "id").(string)
	a.do("POST", "/api/rooms/join", "bob", map[string]any{"room_id": room}).expect(t, http.StatusOK)
	a.do("POST", "/api/messages/send", "carol", map[string]any{"room_id": room, "body": "news"}).expect(t, http.StatusCreated)
	a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "hi"}).expect(t, http.StatusCreated)

	res := a.do("POST", "/api/messages/read", "bob", map[string]any{"room_id": room}).expect(t, http.StatusOK)
	if res.field("room_id") != room || res.field("read_at") == nil {
		t.Errorf("room read answer: %s", res.raw)
	}
	read := decodeData(t, otherTab.expectEvent("conversation-read", "private-user-bob"))
	if read["conversation_id"] != "room:"+room || read["unread_count"] != 0.0 || read["read_at"] != res.field("read_at") {
		t.Errorf("room conversation-read: %v", read)
	}

	a.do("POST", "/api/messages/read", "bob", map[string]any{"with": "alice"}).expect(t, http.StatusOK)
	read = decodeData(t, otherTab.expectEvent("conversation-read", "private-user-bob"))
	if read["conversation_id"] != "chat:alice" || read["unread_count"] != 0.0 {
		t.Errorf("chat conversation-read: %v", read)
	}
	list := a.do("GET", "/api/conversations", "bob", nil).expect(t, http.StatusOK)
	for _, item := range list.field("conversations").([]any) {
		if c := item.(map[string]any); c["unread_count"] != 0.0 || c["last_read_at"] == nil {
			t.Errorf("after reading: %v", c)
		}
	}

	a.do("POST", "/api/messages/read", "dave", map[string]any{"room_id": room}).expect(t, http.StatusForbidden)
	a.do("POST", "/api/messages/read", "bob", map[string]any{"room_id": "00000000000000000000000000000000"}).expect(t, http.StatusNotFound)
	bad := a.do("POST", "/api/messages/read", "bob", map[string]any{"room_id": room, "with": "alice"}).expect(t, http.StatusBadRequest)
	if bad.field("error", "fields", "with") != "not allowed together with room_id" {
		t.Errorf("room_id with with: %s", bad.raw)
	}
	a.do("POST", "/api/messages/read", "bob", map[string]any{}).expect(t, http.StatusBadRequest)
}

// A legacy writer inserts straight into messages: its message is listed,
// counted unread, and delivered, like the API's own.
func TestLegacyWritersMessageShowsInTheListWithItsUnreadCount(t *testing.T) {
	a := newApp(t)
	cursor := a.do("GET", "/api/messages/poll", "bob", nil).expect(t, http.StatusOK).field("cursor").(string)
	if _, err := a.pool.Exec(t.Context(), `INSERT INTO messages (sender_id, receiver_id, body, created_at)
		VALUES ('legacy', 'bob', 'from the old app', now() - interval '1 minute'), ('legacy', 'bob', 'again', now())`); err != nil {
		t.Fatal(err)
	}
	list := a.do("GET", "/api/conversations", "bob", nil).expect(t, http.StatusOK)
	items := list.field("conversations").([]any)
	if len(items) != 1 {
		t.Fatalf("bob's list: %s", list.raw)
	}
	c := items[0].(map[string]any)
	if c["id"] != "chat:legacy" || c["unread_count"] != 2.0 || c["last_message"].(map[string]any)["body"] != "again" {
		t.Errorf("legacy conversation: %v", c)
	}
	events, _ := a.pollUntil("bob", cursor, 2)
	var messages int
	for _, e := range events {
		if e["event"] == "new-message" {
			messages++
		}
	}
	if messages != 2 {
		t.Errorf("polled %d new-message events, want 2", messages)
	}
	// Reading it through the API clears it.
	a.do("POST", "/api/messages/read", "bob", map[string]any{"with": "legacy"}).expect(t, http.StatusOK)
	c = a.do("GET", "/api/conversations", "bob", nil).expect(t, http.StatusOK).field("conversations").([]any)[0].(map[string]any)
	if c["unread_count"] != 0.0 {
		t.Errorf("after reading: %v", c)
	}

}
