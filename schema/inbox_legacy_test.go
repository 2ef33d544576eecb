package schema_test

import (
	"testing"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/dbtest"
)

// A legacy writer (the Data API as `authenticated`, turned on the way
// MIGRATION.md says) inserts messages and marks them read directly: the
// inbox triggers keep both sides' conversation lists and unread counts, and
// tell the reader's devices, exactly as for chatwire's own writes.
func TestInboxFollowsLegacyWriters(t *testing.T) {
	t.Parallel()
	conn := connect(t, dbtest.NewSupabaseDatabase(t, -1))
	seed(t, conn) // alice wrote to bob ("hi bob")
	ownerExec(t, conn, migrationStep(t, "legacy-writers-on"))
	unread := func(user, other string) int {
		t.Helper()
		return ownerInt(t, conn, `SELECT unread_count FROM conversations WHERE user_id = $1 AND id = 'chat:' || $2`, user, other)
	}
	if got := unread(bob, alice); got != 1 {
		t.Fatalf("bob's unread from alice = %d, want 1", got)
	}

	for _, body := range []string{"one", "two"} {
		allowed(t, conn, "authenticated", bob, `INSERT INTO messages (receiver_id, body) VALUES ('`+alice+`', '`+body+`')`)
	}
	if got := unread(alice, bob); got != 2 {
		t.Errorf("alice's unread from bob's legacy messages = %d, want 2", got)
	}
	// Writing marked what bob received read, and told bob's devices.
	if got := unread(bob, alice); got != 0 {
		t.Errorf("bob's unread after writing = %d, want 0", got)
	}
	if got := ownerInt(t, conn, `SELECT count(*) FROM events WHERE event = 'conversation-read' AND channel = $1
		AND data ->> 'conversation_id' = 'chat:' || $2 AND (data ->> 'unread_count')::int = 0`, chat.UserChannel(bob), alice); got != 1 {
		t.Errorf("%d conversation-read events for bob, want 1", got)
	}
	if got := ownerInt(t, conn, `SELECT count(*) FROM conversations c JOIN messages m ON m.id = c.last_message_id
		WHERE c.user_id = $1 AND c.id = 'chat:' || $2 AND m.body = 'two'`, alice, bob); got != 1 {
		t.Errorf("alice's list does not show bob's last legacy message")
	}

	// alice, a legacy client too, reads one of them.
	allowed(t, conn, "authenticated", alice, `UPDATE messages SET read_at = now() WHERE sender_id = '`+bob+`' AND body = 'one'`)
	if got := unread(alice, bob); got != 1 {
		t.Errorf("alice's unread after a legacy read = %d, want 1", got)
	}
	if got := ownerInt(t, conn, `SELECT count(*) FROM events WHERE event = 'conversation-read' AND channel = $1
		AND (data ->> 'unread_count')::int = 1`, chat.UserChannel(alice)); got != 1 {
		t.Errorf("%d conversation-read events for alice with 1 unread, want 1", got)
	}
	// The list and reactions are chatwire's alone.
	for _, role := range dbtest.SupabaseRoles {
		seesNothing(t, conn, role, alice, `SELECT * FROM conversations`)
		refused(t, conn, role, alice, `INSERT INTO message_reactions (message_id, emoji, user_id) SELECT id, '👍', '`+alice+`' FROM messages LIMIT 1`, permissionDenied)
	}
}
