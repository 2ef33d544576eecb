package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/store"
)

// conversation returns the user's conversation with that id, failing when
// the list does not have it.
func conversation(t testing.TB, db *store.DB, userID, id string) chat.Conversation {
	t.Helper()
	list, err := db.Conversations(context.Background(), chat.ConversationQuery{UserID: userID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("%s's list has no %s: %+v", userID, id, list)
	return chat.Conversation{}
}

func listIDs(t testing.TB, db *store.DB, userID string) []string {
	t.Helper()
	list, err := db.Conversations(context.Background(), chat.ConversationQuery{UserID: userID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	return ids
}

func wantUnread(t testing.TB, db *store.DB, userID, id string, want int) {
	t.Helper()
	if got := conversation(t, db, userID, id).UnreadCount; got != want {
		t.Fatalf("%s's %s: unread %d, want %d", userID, id, got, want)
	}
}

// wantConversationRead checks that events hold exactly one conversation-read
// for the user's conversation with that count.
func wantConversationRead(t testing.TB, events []chat.Event, userID, id string, unread int) {
	t.Helper()
	found := eventsNamed(events, "conversation-read")
	if len(found) != 1 {
		t.Fatalf("%d conversation-read events in %v, want 1", len(found), eventNames(events))
	}
	e := found[0]
	var data struct {
		ConversationID string  `json:"conversation_id"`
		ReadAt         *string `json:"read_at"`
		UnreadCount    *int    `json:"unread_count"`
	}
	decodeEvent(t, e, &data)
	if e.Channel != chat.UserChannel(userID) || data.ConversationID != id || data.ReadAt == nil ||
		data.UnreadCount == nil || *data.UnreadCount != unread {
		t.Fatalf("conversation-read on %s: %s; want %s, unread %d on %s", e.Channel, e.Data, id, unread, chat.UserChannel(userID))
	}
}

func eventNames(events []chat.Event) []string {
	names := []string{}
	for _, e := range events {
		names = append(names, e.Name)
	}
	return names
}

func TestConversationsListChatsAndRoomsWithUnreadCounts(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		first := send(t, db, "alice", "bob", "1")
		second := send(t, db, "alice", "bob", "2")
		createRoom(t, pool, "r1", "alice", "bob", "carol")
		inRoom, err := db.InsertMessage(ctx, user("carol"), chat.NewMessage{RoomID: "r1", Body: "hello room"})
		if err != nil {
			t.Fatal(err)
		}

		// Most recent activity first; the sender has nothing unread.
		if got, want := fmt.Sprint(listIDs(t, db, "bob")), "[room:r1 chat:alice]"; got != want {
			t.Fatalf("bob's list = %s, want %s", got, want)
		}
		chatRow := conversation(t, db, "bob", "chat:alice")
		if chatRow.Kind != chat.KindChat || chatRow.With == nil || chatRow.With.ID != "alice" || chatRow.With.Name != "Name of alice" ||
			chatRow.Channel != chat.ChatChannel("alice", "bob") || chatRow.LastMessage == nil || chatRow.LastMessage.ID != second.ID ||
			chatRow.UnreadCount != 2 || !chatRow.UpdatedAt.Equal(second.CreatedAt) {
			t.Fatalf("bob's chat with alice: %+v", chatRow)
		}
		roomRow := conversation(t, db, "bob", "room:r1")
		if roomRow.Kind != chat.KindRoom || roomRow.Room == nil || roomRow.Room.Name != "r1" || roomRow.Room.Visibility != "public" ||
			roomRow.LastMessage == nil || roomRow.LastMessage.ID != inRoom.Message.ID || roomRow.UnreadCount != 1 {
			t.Fatalf("bob's room: %+v", roomRow)
		}
		wantUnread(t, db, "alice", "chat:bob", 0)
		wantUnread(t, db, "carol", "room:r1", 0)
		wantUnread(t, db, "alice", "room:r1", 1)

		// Reading one message: one fewer, told to bob's devices.
		res, err := db.MarkRead(ctx, "bob", []string{first.ID})
		if err != nil {
			t.Fatal(err)
		}
		wantConversationRead(t, res.Events, "bob", "chat:alice", 1)
		wantUnread(t, db, "bob", "chat:alice", 1)

		// Sending marks the chat read for the sender: the rest is read.
		reply, err := db.InsertMessage(ctx, user("bob"), chat.NewMessage{ReceiverID: "alice", Body: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		wantConversationRead(t, reply.Events, "bob", "chat:alice", 0)
		wantUnread(t, db, "bob", "chat:alice", 0)
		wantUnread(t, db, "alice", "chat:bob", 1)
		if got := queryInt(t, pool, `SELECT count(*) FROM messages WHERE receiver_id = 'bob' AND read_at IS NULL`); got != 0 {
			t.Errorf("%d messages to bob still unread after bob wrote back", got)
		}
		// A sender with nothing unread writes no conversation-read.
		again, err := db.InsertMessage(ctx, user("bob"), chat.NewMessage{ReceiverID: "alice", Body: "again"})
		if err != nil {
			t.Fatal(err)
		}
		if got := eventNames(again.Events); fmt.Sprint(got) != "[new-message message-notification]" {
			t.Errorf("a send with nothing unread wrote %v", got)
		}

		// The room: the read mark moves, the count clears, the devices hear it.
		read, err := db.MarkRoomRead(ctx, "bob", "r1")
		if err != nil {
			t.Fatal(err)
		}
		wantConversationRead(t, read.Events, "bob", "room:r1", 0)
		wantUnread(t, db, "bob", "room:r1", 0)
		if got := conversation(t, db, "bob", "room:r1").LastReadAt; got == nil || !got.Equal(read.ReadAt) {
			t.Errorf("last_read_at = %v, want %v", got, read.ReadAt)
		}
		// Sending into the room clears the sender's count.
		if _, err := db.InsertMessage(ctx, user("alice"), chat.NewMessage{RoomID: "r1", Body: "me too"}); err != nil {
			t.Fatal(err)
		}
		wantUnread(t, db, "alice", "room:r1", 0)
		wantUnread(t, db, "bob", "room:r1", 1)
		wantUnread(t, db, "carol", "room:r1", 1)

		_, err = db.MarkRoomRead(ctx, "mallory", "r1")
		wantCode(t, err, chat.EFORBIDDEN, "room_id")
		_, err = db.MarkRoomRead(ctx, "bob", "nope")
		wantCode(t, err, chat.ENOTFOUND, "room_id")
	})
}

func TestConversationsJoinListsARoomAndLeaveUnlistsIt(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	createRoom(t, pool, "r1", "alice")
	old, err := db.InsertMessage(ctx, user("alice"), chat.NewMessage{RoomID: "r1", Body: "before dave"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.JoinRoom(ctx, user("dave"), "r1", "dave", 0); err != nil {
		t.Fatal(err)
	}
	// Listed at once, with the last message; older messages are never unread.
	c := conversation(t, db, "dave", "room:r1")
	if c.LastMessage == nil || c.LastMessage.ID != old.Message.ID || c.UnreadCount != 0 || c.LastReadAt == nil {
		t.Fatalf("dave's room after joining: %+v", c)
	}
	if _, err := db.LeaveRoom(ctx, "r1", "dave"); err != nil {
		t.Fatal(err)
	}
	if got := listIDs(t, db, "dave"); len(got) != 0 {
		t.Fatalf("dave's list after leaving = %v, want empty", got)
	}
}

// A legacy client writes messages and read receipts straight into the table:
// the triggers keep its conversations and counts, and tell the reader's
// devices, as for the API's own writes.
func TestConversationsFollowALegacyWriter(t *testing.T) {
	db, pool := newStore(t)
	bob := newPoller(t, db, "bob", 100)
	exec(t, pool, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('legacy', 'bob', 'one'), ('legacy', 'bob', 'two')`)
	exec(t, pool, `INSERT INTO messages (sender_id, receiver_id, body, read_at) VALUES ('legacy', 'bob', 'read already', now())`)
	wantUnread(t, db, "bob", "chat:legacy", 2)
	wantUnread(t, db, "legacy", "chat:bob", 0)

	exec(t, pool, `UPDATE messages SET read_at = now() WHERE body = 'one'`)
	wantUnread(t, db, "bob", "chat:legacy", 1)
	bob.pollUntil(t, "conversation-read", func(seen []chat.Event) bool {
		return len(eventsNamed(seen, "conversation-read")) > 0
	})
	wantConversationRead(t, bob.seen, "bob", "chat:legacy", 1)
	if got := len(messageIDs(t, bob.seen)); got != 3 {
		t.Errorf("bob polled %d new-message events, want 3", got)
	}
}

func TestConversationsPageByActivityWithoutGapsOrRepeats(t *testing.T) {
	db, _ := newStore(t)
	ctx := testContext(t)
	const chats = 25
	for i := range chats {
		send(t, db, fmt.Sprintf("u%02d", i), "hub", "hi")
	}
	var (
		seen   = map[string]bool{}
		order  []string
		before *chat.ConversationCursor
	)
	for page := 0; ; page++ {
		list, err := db.Conversations(ctx, chat.ConversationQuery{UserID: "hub", Before: before, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if page == 0 {
			// Activity in a conversation already listed moves it up, never
			// into a later page again.
			send(t, db, "u20", "hub", "news")
		}
		for _, c := range list {
			if seen[c.ID] {
				t.Fatalf("%s listed twice", c.ID)
			}
			seen[c.ID] = true
			order = append(order, c.ID)
		}
		if len(list) < 10 {
			break
		}
		last := list[len(list)-1]
		before = &chat.ConversationCursor{UpdatedAt: last.UpdatedAt, ID: last.ID}
	}
	if len(order) != chats {
		t.Fatalf("listed %d conversations, want %d: %v", len(order), chats, order)
	}
	if order[0] != "chat:u24" || order[chats-1] != "chat:u00" {
		t.Errorf("order %v: want newest (u24) first, oldest (u00) last", order)
	}
}

// Both sides of a chat write and read at once, from several devices: rows are
// locked in one order, so nothing deadlocks, and the counts end right.
func TestConversationsUnderConcurrentSendsAndReads(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	const rounds = 20
	var (
		wg   sync.WaitGroup
		errs = make(chan error, 4*rounds)
	)
	for _, pair := range [][2]string{{"alice", "bob"}, {"bob", "alice"}} {
		for range 2 {
			wg.Add(2)
			go func() {
				defer wg.Done()
				for range rounds {
					if _, err := db.InsertMessage(ctx, user(pair[0]), chat.NewMessage{ReceiverID: pair[1], Body: "x"}); err != nil {
						errs <- err
					}
				}
			}()
			go func() {
				defer wg.Done()
				for range rounds {
					if _, err := db.MarkReadFrom(ctx, pair[0], pair[1]); err != nil {
						errs <- err
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, side := range [][2]string{{"alice", "bob"}, {"bob", "alice"}} {
		want := queryInt(t, pool, `SELECT count(*) FROM messages WHERE receiver_id = $1 AND sender_id = $2 AND read_at IS NULL`, side[0], side[1])
		wantUnread(t, db, side[0], "chat:"+side[1], want)
	}
}

func decodeEvent(t testing.TB, e chat.Event, v any) {
	t.Helper()
	if err := json.Unmarshal(e.Data, v); err != nil {
		t.Fatalf("event %s data %s: %v", e.Name, e.Data, err)
	}
}
