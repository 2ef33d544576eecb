package schema_test

import (
	"testing"

	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/migrate"
)

// Schema 11 runs the inbox's statements only for the messages that need
// them: a 1:1 message to someone whose messages the sender has all read
// runs no UPDATE on messages (which would fire the AFTER UPDATE triggers'
// statements), a reply to unread messages marks them read as before, and a
// room message clears the sender's room count. Upgraded from schema 10 with
// unread messages in it, so the counts kept by the old triggers carry on.
func TestSendRunsOnlyTheInboxWorkItNeeds(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewEmptyDatabase(t)
	if err := migrate.To(ctxFor(t), dbURL, 10); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dbURL)
	ownerExec(t, conn, `INSERT INTO users (id, name) VALUES ('alice', 'Alice'), ('bob', 'Bob')`)
	ownerExec(t, conn, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('alice', 'bob', 'one')`)
	ownerExec(t, conn, `INSERT INTO rooms (id, name, created_by) VALUES ('r1', 'room', 'alice')`)
	ownerExec(t, conn, `INSERT INTO room_members (room_id, user_id) VALUES ('r1', 'alice'), ('r1', 'bob')`)
	ownerExec(t, conn, `INSERT INTO messages (sender_id, room_id, body) VALUES ('bob', 'r1', 'room one')`)
	conn.Close(ctxFor(t))
	if err := migrate.Up(ctxFor(t), dbURL); err != nil {
		t.Fatal(err)
	}
	conn = connect(t, dbURL)

	// Counts UPDATE statements on messages, whether or not they change a row.
	ownerExec(t, conn, `CREATE TABLE test_update_statements (at timestamptz DEFAULT clock_timestamp())`)
	ownerExec(t, conn, `CREATE FUNCTION test_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN INSERT INTO test_update_statements DEFAULT VALUES; RETURN NULL; END $$`)
	ownerExec(t, conn, `CREATE TRIGGER test_count_update AFTER UPDATE ON messages
		FOR EACH STATEMENT EXECUTE FUNCTION test_count_update()`)
	updates := func() int {
		t.Helper()
		return ownerInt(t, conn, `SELECT count(*) FROM test_update_statements`)
	}
	unread := func(user, conversation string) int {
		t.Helper()
		return ownerInt(t, conn, `SELECT unread_count FROM conversations WHERE user_id = $1 AND id = $2`, user, conversation)
	}
	readEvents := func(user string) int {
		t.Helper()
		return ownerInt(t, conn, `SELECT count(*) FROM events WHERE event = 'conversation-read' AND recipients = ARRAY[$1::text]`, user)
	}

	// alice has read everything bob sent her (he sent nothing): no UPDATE.
	ownerExec(t, conn, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('alice', 'bob', 'two')`)
	if got := updates(); got != 0 {
		t.Errorf("a message with nothing unread for its sender ran %d UPDATE statements on messages, want 0", got)
	}
	if got := unread("bob", "chat:alice"); got != 2 {
		t.Errorf("bob's unread from alice = %d, want 2 (one from before the upgrade)", got)
	}
	if got := ownerInt(t, conn, `SELECT count(*) FROM conversations c JOIN messages m ON m.id = c.last_message_id
		WHERE c.id IN ('chat:alice', 'chat:bob') AND m.body = 'two'`); got != 2 {
		t.Errorf("%d of the two sides list 'two' as the last message, want 2", got)
	}

	// bob replies with two messages unread: they are marked read, once.
	ownerExec(t, conn, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('bob', 'alice', 'reply')`)
	if got := updates(); got != 1 {
		t.Errorf("a reply to unread messages ran %d UPDATE statements on messages, want 1", got)
	}
	if got := ownerInt(t, conn, `SELECT count(*) FROM messages WHERE receiver_id = 'bob' AND read_at IS NULL`); got != 0 {
		t.Errorf("%d of alice's messages to bob are still unread after his reply, want 0", got)
	}
	if got, want := unread("bob", "chat:alice"), 0; got != want {
		t.Errorf("bob's unread after replying = %d, want %d", got, want)
	}
	if got := unread("alice", "chat:bob"); got != 1 {
		t.Errorf("alice's unread from bob = %d, want 1", got)
	}
	if got := readEvents("bob"); got != 1 {
		t.Errorf("%d conversation-read events for bob, want 1", got)
	}

	// A room message: alice's count (bob's message from before the upgrade)
	// clears and her devices are told; bob's grows; messages are not updated.
	if got := unread("alice", "room:r1"); got != 1 {
		t.Fatalf("alice's room unread before she writes = %d, want 1", got)
	}
	ownerExec(t, conn, `INSERT INTO messages (sender_id, room_id, body) VALUES ('alice', 'r1', 'room two')`)
	if got := updates(); got != 1 {
		t.Errorf("a room message ran %d more UPDATE statements on messages, want none", got-1)
	}
	if got := unread("alice", "room:r1"); got != 0 {
		t.Errorf("alice's room unread after writing = %d, want 0", got)
	}
	if got := readEvents("alice"); got != 1 {
		t.Errorf("%d conversation-read events for alice, want 1 (her room)", got)
	}
	if got := unread("bob", "room:r1"); got != 1 {
		t.Errorf("bob's room unread = %d, want 1", got)
	}
}
