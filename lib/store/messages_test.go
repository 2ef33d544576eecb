package store_test

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/store"
)

func TestInsertMessageWritesMessageAndEvents(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		att := &chat.Attachment{URL: "https://example.com/a.png", Name: "a.png", Size: 12, ContentType: "image/png"}
		saved, err := db.InsertMessage(ctx, chat.User{ID: "auth0|ana", Name: "Ana"},
			chat.NewMessage{ClientID: "c-1", ReceiverID: "bob", Body: "hi", Attachment: att})
		if err != nil {
			t.Fatal(err)
		}
		m := saved.Message
		if !saved.Created {
			t.Error("Created = false for a new message")
		}
		if got, want := m.Channel, chat.ChatChannel("auth0|ana", "bob"); got != want {
			t.Errorf("channel = %q, want %q", got, want)
		}
		if m.ID == "" || m.SenderID != "auth0|ana" || *m.ReceiverID != "bob" || m.RoomID != nil ||
			m.Body != "hi" || *m.ClientID != "c-1" || m.ReadAt != nil || m.CreatedAt.IsZero() {
			t.Errorf("message = %+v", m)
		}
		if m.Attachment == nil || *m.Attachment != *att {
			t.Errorf("attachment = %+v, want %+v", m.Attachment, att)
		}

		if got, want := len(saved.Events), 2; got != want {
			t.Fatalf("%d events, want %d: %+v", got, want, saved.Events)
		}
		nm, note := saved.Events[0], saved.Events[1]
		if nm.Name != "new-message" || nm.Channel != m.Channel || dataString(t, nm, "id") != m.ID {
			t.Errorf("first event = %s on %s %s", nm.Name, nm.Channel, nm.Data)
		}
		if note.Name != "message-notification" || note.Channel != chat.UserChannel("bob") ||
			dataString(t, note, "message_id") != m.ID {
			t.Errorf("second event = %s on %s %s", note.Name, note.Channel, note.Data)
		}
		if !note.Cursor.After(nm.Cursor) || nm.Seq != nm.Cursor.Seq || nm.Cursor.XID == 0 {
			t.Errorf("cursors %v, %v", nm.Cursor, note.Cursor)
		}
		var sender struct {
			Sender struct{ Name string } `json:"sender"`
		}
		if err := json.Unmarshal(note.Data, &sender); err != nil || sender.Sender.Name != "Ana" {
			t.Errorf("notification sender name = %q (%v), want the name recorded with the message", sender.Sender.Name, err)
		}

		// The message's JSON equals the event's data: one shape, whoever wrote it.
		fromGo, _ := json.Marshal(m)
		var a, b map[string]any
		_ = json.Unmarshal(fromGo, &a)
		_ = json.Unmarshal(nm.Data, &b)
		if ja, jb := mustJSON(t, a), mustJSON(t, b); ja != jb {
			t.Errorf("message JSON\n%s\nevent data\n%s", ja, jb)
		}

		// The name is recorded, and changed when it changes.
		if _, err := db.InsertMessage(ctx, chat.User{ID: "auth0|ana", Name: "Ana B"}, chat.NewMessage{ReceiverID: "bob", Body: "x"}); err != nil {
			t.Fatal(err)
		}
		var name string
		if err := pool.QueryRow(ctx, `SELECT name FROM users WHERE id = 'auth0|ana'`).Scan(&name); err != nil || name != "Ana B" {
			t.Errorf("users.name = %q (%v), want %q", name, err, "Ana B")
		}
	})
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestInsertMessageIsIdempotentPerClientID(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		first, err := db.InsertMessage(ctx, user("alice"), chat.NewMessage{ClientID: "c-1", ReceiverID: "bob", Body: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		again, err := db.InsertMessage(ctx, user("alice"), chat.NewMessage{ClientID: "c-1", ReceiverID: "bob", Body: "hi again"})
		if err != nil {
			t.Fatal(err)
		}
		if again.Created || len(again.Events) != 0 {
			t.Errorf("repeat: Created = %v, %d events; want false, 0", again.Created, len(again.Events))
		}
		if again.Message.ID != first.Message.ID || again.Message.Body != "hi" || again.Message.Channel != first.Message.Channel {
			t.Errorf("repeat returned %+v, want the first message %+v", again.Message, first.Message)
		}
		// The same client_id of another sender is another message.
		other, err := db.InsertMessage(ctx, user("bob"), chat.NewMessage{ClientID: "c-1", ReceiverID: "alice", Body: "yo"})
		if err != nil || !other.Created {
			t.Fatalf("other sender: Created = %v, err = %v", other.Created, err)
		}
		if got := queryInt(t, pool, `SELECT count(*) FROM messages`); got != 2 {
			t.Errorf("%d messages, want 2", got)
		}
		// Bob's send also marked alice's message read (message-read and
		// conversation-read); the repeat wrote nothing.
		if got := queryInt(t, pool, `SELECT count(*) FROM events WHERE event IN ('new-message', 'message-notification')`); got != 4 {
			t.Errorf("%d message events, want 4", got)
		}
	})
}

func TestInsertMessageConcurrentDuplicatesStoreOneMessage(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		const n = 20
		var (
			wg      sync.WaitGroup
			results = make([]chat.SavedMessage, n)
			errs    = make([]error, n)
		)
		for i := range n {
			wg.Go(func() {
				results[i], errs[i] = db.InsertMessage(ctx, user("alice"),
					chat.NewMessage{ClientID: "retry-me", ReceiverID: "bob", Body: "once"})
			})
		}
		wg.Wait()
		created, events := 0, 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("send %d: %v", i, errs[i])
			}
			if results[i].Created {
				created++
			}
			events += len(results[i].Events)
			if results[i].Message.ID != results[0].Message.ID {
				t.Errorf("send %d returned message %s, send 0 %s", i, results[i].Message.ID, results[0].Message.ID)
			}
		}
		if created != 1 || events != 2 {
			t.Errorf("created %d times with %d events, want once with 2", created, events)
		}
		if got := queryInt(t, pool, `SELECT count(*) FROM messages`); got != 1 {
			t.Errorf("%d messages stored, want 1", got)
		}
		if got := queryInt(t, pool, `SELECT count(*) FROM events`); got != 2 {
			t.Errorf("%d events stored, want 2", got)
		}
	})
}

func TestInsertMessageNotificationPreferences(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	exec(t, pool, `INSERT INTO users (id, notifications_enabled) VALUES ('off', false)`)
	exec(t, pool, `INSERT INTO users (id, muted_channels) VALUES ('muted', ARRAY[$1::text])`, chat.ChatChannel("alice", "muted"))
	for _, tc := range []struct {
		to   string
		want []string
	}{
		{"bob", []string{"new-message", "message-notification"}},
		{"off", []string{"new-message"}},
		{"muted", []string{"new-message"}},
		{"alice", []string{"new-message"}}, // a note to self notifies nobody
	} {
		saved, err := db.InsertMessage(ctx, user("alice"), chat.NewMessage{ReceiverID: tc.to, Body: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range saved.Events {
			got = append(got, e.Name)
		}
		if mustJSON(t, got) != mustJSON(t, tc.want) {
			t.Errorf("to %s: events %v, want %v", tc.to, got, tc.want)
		}
	}
	// Muting another chat does not mute this one.
	exec(t, pool, `UPDATE users SET muted_channels = ARRAY[$1::text] WHERE id = 'muted'`, chat.ChatChannel("carol", "muted"))
	saved, err := db.InsertMessage(ctx, user("alice"), chat.NewMessage{ReceiverID: "muted", Body: "hi"})
	if err != nil || len(saved.Events) != 2 {
		t.Errorf("other chat muted: %d events, err %v; want 2", len(saved.Events), err)
	}
}

func TestInsertRoomMessage(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		createRoom(t, pool, "r1", "alice", "bob")

		saved, err := db.InsertMessage(ctx, user("alice"), chat.NewMessage{RoomID: "r1", Body: "hello room", ClientID: "k"})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := saved.Message.Channel, chat.RoomChannel("r1"); got != want {
			t.Errorf("channel = %q, want %q", got, want)
		}
		if len(saved.Events) != 1 || saved.Events[0].Name != "new-message" || saved.Events[0].Channel != chat.RoomChannel("r1") {
			t.Errorf("events = %+v, want one new-message on the room", saved.Events)
		}

		_, err = db.InsertMessage(ctx, user("mallory"), chat.NewMessage{RoomID: "r1", Body: "let me in", ClientID: "m"})
		wantCode(t, err, chat.EFORBIDDEN, "room_id")
		_, err = db.InsertMessage(ctx, user("mallory"), chat.NewMessage{RoomID: "r1", Body: "let me in"})
		wantCode(t, err, chat.EFORBIDDEN, "room_id")
		_, err = db.InsertMessage(ctx, user("alice"), chat.NewMessage{RoomID: "nope", Body: "anyone?"})
		wantCode(t, err, chat.ENOTFOUND, "room_id")
		// A refused send writes nothing at all, not even the name.
		if got := queryInt(t, pool, `SELECT count(*) FROM users WHERE id = 'mallory'`); got != 0 {
			t.Errorf("refused sender recorded in users")
		}
		if got := queryInt(t, pool, `SELECT count(*) FROM messages`); got != 1 {
			t.Errorf("%d messages, want 1", got)
		}

		// A repeat after leaving still answers with the first message.
		exec(t, pool, `DELETE FROM room_members WHERE user_id = 'alice'`)
		again, err := db.InsertMessage(ctx, user("alice"), chat.NewMessage{RoomID: "r1", Body: "hello room", ClientID: "k"})
		if err != nil || again.Created || again.Message.ID != saved.Message.ID {
			t.Errorf("repeat after leaving: %+v, %v", again, err)
		}
	})
}

func TestInsertMessageRejectsBadInput(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	for _, m := range []chat.NewMessage{{Body: "x"}, {ReceiverID: "b", RoomID: "r", Body: "x"}} {
		_, err := db.InsertMessage(ctx, user("a"), m)
		wantCode(t, err, chat.EINVALID, "")
	}
	// Text Postgres cannot store is a field error, not an internal one.
	_, err := db.InsertMessage(ctx, user("a"), chat.NewMessage{ReceiverID: "b", Body: "nul \x00 byte"})
	wantCode(t, err, chat.EINVALID, "body")
	_, err = db.InsertMessage(ctx, user("a"), chat.NewMessage{ReceiverID: "b", Body: "x", ClientID: "bad \xff utf-8"})
	wantCode(t, err, chat.EINVALID, "client_id")
	_, err = db.InsertMessage(ctx, user("a"), chat.NewMessage{ReceiverID: "b", Body: "x",
		Attachment: &chat.Attachment{URL: "https://example.com/\x00"}})
	wantCode(t, err, chat.EINVALID, "attachment")
	_, err = db.History(ctx, chat.HistoryQuery{UserID: "a", With: "b\x00", Limit: 1})
	wantCode(t, err, chat.EINVALID, "with")
	_, err = db.MarkReadFrom(ctx, "a", "b\x00")
	wantCode(t, err, chat.EINVALID, "with")
	if got := queryInt(t, pool, `SELECT count(*) FROM messages`) + queryInt(t, pool, `SELECT count(*) FROM users`); got != 0 {
		t.Errorf("refused sends wrote %d rows", got)
	}
}
