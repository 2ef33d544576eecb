package store_test

import (
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/migrate"
	"github.com/chatwire/chatwire/lib/store"
	"github.com/chatwire/chatwire/schema"
)

func newUpload(t testing.TB, db *store.DB, owner string) chat.StoredAttachment {
	t.Helper()
	id := uuid.NewString()
	a := chat.StoredAttachment{ID: id, OwnerID: owner, Key: chat.ObjectKey(owner, id), Name: "f.png", Size: 10, ContentType: "image/png"}
	if err := db.CreateAttachment(testContext(t), a); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAttachmentsLifecycle(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		createRoom(t, pool, "r1", "alice", "bob")
		chatFile, roomFile, unsent := newUpload(t, db, "alice"), newUpload(t, db, "alice"), newUpload(t, db, "alice")

		if _, found, err := db.OwnAttachment(ctx, "bob", chatFile.ID); err != nil || found {
			t.Fatalf("bob sees alice's upload as his: %v %v", found, err)
		}
		got, found, err := db.OwnAttachment(ctx, "alice", chatFile.ID)
		if err != nil || !found || got.Key != chatFile.Key || got.MessageID != nil {
			t.Fatalf("OwnAttachment = %+v %v %v", got, found, err)
		}

		m, err := db.InsertMessage(ctx, user("alice"), chat.NewMessage{ReceiverID: "carol", ClientID: "c1", Attachment: chatFile.Attachment()})
		if err != nil {
			t.Fatal(err)
		}
		if m.Message.Attachment == nil || m.Message.Attachment.ID != chatFile.ID || m.Message.Attachment.URL != "" {
			t.Fatalf("stored attachment = %+v, want the upload without a URL", m.Message.Attachment)
		}
		got, _, _ = db.OwnAttachment(ctx, "alice", chatFile.ID)
		if got.MessageID == nil || *got.MessageID != m.Message.ID || got.MessageClientID == nil || *got.MessageClientID != "c1" {
			t.Fatalf("after send: %+v", got)
		}
		_, err = db.InsertMessage(ctx, user("alice"), chat.NewMessage{ReceiverID: "dave", Attachment: chatFile.Attachment()})
		wantCode(t, err, chat.ECONFLICT, "attachment.id")
		_, err = db.InsertMessage(ctx, user("bob"), chat.NewMessage{ReceiverID: "dave", Attachment: unsent.Attachment()})
		wantCode(t, err, chat.ECONFLICT, "attachment.id")
		if _, err := db.InsertMessage(ctx, user("alice"), chat.NewMessage{RoomID: "r1", Attachment: roomFile.Attachment()}); err != nil {
			t.Fatal(err)
		}

		readable := func(userID string, a chat.StoredAttachment) bool {
			t.Helper()
			_, found, err := db.ReadableAttachment(ctx, userID, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			return found
		}
		for _, c := range []struct {
			user string
			a    chat.StoredAttachment
			want bool
		}{
			{"alice", chatFile, true}, {"carol", chatFile, true}, {"bob", chatFile, false},
			{"alice", roomFile, true}, {"bob", roomFile, true}, {"carol", roomFile, false},
			{"alice", unsent, true}, {"bob", unsent, false},
		} {
			if got := readable(c.user, c.a); got != c.want {
				t.Errorf("%s reads %s: %v, want %v", c.user, c.a.ID, got, c.want)
			}
		}
		exec(t, pool, `DELETE FROM room_members WHERE room_id = 'r1' AND user_id = 'bob'`)
		if readable("bob", roomFile) {
			t.Error("a former member still reads the room's file")
		}

		// The sweep: only the unsent upload is old enough; sent ones stay.
		claimed, err := db.ClaimExpiredAttachments(ctx, time.Now().Add(time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(claimed) != 1 || claimed[0].ID != unsent.ID {
			t.Fatalf("claimed %+v, want only %s", claimed, unsent.ID)
		}
		if _, found, _ := db.OwnAttachment(ctx, "alice", unsent.ID); found {
			t.Fatal("a claimed upload can still be sent")
		}
		if err := db.DeleteAttachments(ctx, []string{unsent.ID}); err != nil {
			t.Fatal(err)
		}
		if n := queryInt(t, pool, `SELECT count(*) FROM attachments`); n != 2 {
			t.Fatalf("%d attachments left, want 2", n)
		}
	})
}

// TestUpgradeKeepsLinkedAttachments builds the schema just before files, stores
// messages as that release did, upgrades, and checks they read and write as
// before.
func TestUpgradeKeepsLinkedAttachments(t *testing.T) {
	ctx := testContext(t)
	dbURL := dbtest.NewEmptyDatabase(t)
	if err := migrate.To(ctx, dbURL, versionBefore(t, "attachments")); err != nil {
		t.Fatal(err)
	}
	pool := newPool(t, dbURL, func(*pgxpool.Config) {})
	exec(t, pool, `INSERT INTO messages (sender_id, receiver_id, body, attachment) VALUES
  ('alice', 'bob', 'see', '{"url":"https://example.com/a.png","name":"a.png","size":3,"content_type":"image/png"}'),
  ('alice', 'bob', 'plain text', NULL)`)
	if err := migrate.Up(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	db := store.New(pool)
	msgs, err := db.History(ctx, chat.HistoryQuery{UserID: "bob", With: "alice", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 {
		t.Fatalf("history has %d messages, want 2", len(msgs))
	}
	var linked *chat.Attachment
	for _, m := range msgs {
		if m.Attachment != nil {
			linked = m.Attachment
		}
	}
	if linked == nil || linked.URL != "https://example.com/a.png" || linked.ID != "" {
		t.Fatalf("linked attachment after upgrade = %+v", linked)
	}
	// A legacy writer's link (no id) still inserts; files have their table.
	exec(t, pool, `INSERT INTO messages (sender_id, receiver_id, attachment) VALUES ('bob', 'alice', '{"url":"https://example.com/b.png"}')`)
	// Links are untouched by the upload triggers: deleting one just deletes it.
	exec(t, pool, `DELETE FROM messages WHERE attachment ->> 'url' = 'https://example.com/a.png'`)
	if n := queryInt(t, pool, `SELECT count(*) FROM attachments`); n != 0 {
		t.Fatalf("attachments has %d rows after upgrade", n)
	}
}

// TestDeletingAMessageDiscardsItsUpload: a deleted message, or one whose
// attachment is cleared, gives up its upload at once; marking read does not.
func TestDeletingAMessageDiscardsItsUpload(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	sendWith := func(to string) (chat.StoredAttachment, string) {
		t.Helper()
		a := newUpload(t, db, "alice")
		m, err := db.InsertMessage(ctx, user("alice"), chat.NewMessage{ReceiverID: to, Attachment: a.Attachment()})
		if err != nil {
			t.Fatal(err)
		}
		return a, m.Message.ID
	}
	deleted, deletedMsg := sendWith("bob")
	cleared, clearedMsg := sendWith("bob")
	kept, keptMsg := sendWith("bob")

	exec(t, pool, `DELETE FROM messages WHERE id = $1::uuid`, deletedMsg)
	exec(t, pool, `UPDATE messages SET attachment = NULL, body = '(deleted)' WHERE id = $1::uuid`, clearedMsg)
	exec(t, pool, `UPDATE messages SET read_at = now() WHERE id = $1::uuid`, keptMsg)

	for _, c := range []struct {
		a        chat.StoredAttachment
		readable bool
	}{{deleted, false}, {cleared, false}, {kept, true}} {
		if _, found, err := db.ReadableAttachment(ctx, "bob", c.a.ID); err != nil || found != c.readable {
			t.Errorf("upload %s readable = %v (%v), want %v", c.a.ID, found, err, c.readable)
		}
	}
	// The sweep takes the discarded ones whatever their age.
	claimed, err := db.ClaimExpiredAttachments(ctx, time.Now().Add(-time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, a := range claimed {
		got[a.ID] = true
	}
	if len(claimed) != 2 || !got[deleted.ID] || !got[cleared.ID] {
		t.Fatalf("claimed %v, want the uploads of the deleted and the cleared message", got)
	}
}

// versionBefore is the schema version just before the migration NNN_topic.sql.
func versionBefore(t *testing.T, topic string) int32 {
	t.Helper()
	names, err := fs.Glob(schema.FS, "*_"+topic+".sql")
	if err != nil || len(names) != 1 {
		t.Fatalf("migration *_%s.sql: %v %v", topic, names, err)
	}
	n, err := strconv.Atoi(strings.SplitN(names[0], "_", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	return int32(n - 1)
}
