package migrate_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/migrate"
)

// Upgrading a database that holds messages, reads and rooms to the inbox
// schema (009) lists every existing conversation with its last message and
// the unread messages it really has; rooms start their read marks at the
// upgrade, so a room's past is not suddenly unread.
func TestInboxUpgradeListsExistingConversations(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dbURL := dbtest.NewEmptyDatabase(t)
	if err := migrate.To(ctx, dbURL, 8); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	mustExec := func(sql string) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	mustExec(`INSERT INTO users (id, name) VALUES ('alice', 'Alice')`)
	mustExec(`INSERT INTO messages (sender_id, receiver_id, body, created_at, read_at) VALUES
	  ('alice', 'bob', 'old, read', now() - interval '3 hours', now() - interval '2 hours'),
	  ('alice', 'bob', 'unread 1', now() - interval '2 hours', NULL),
	  ('alice', 'bob', 'unread 2', now() - interval '1 hour', NULL),
	  ('bob', 'alice', 'last', now() - interval '30 minutes', NULL)`)
	mustExec(`INSERT INTO rooms (id, name, created_by) VALUES ('r1', 'Room', 'carol')`)
	mustExec(`INSERT INTO room_members (room_id, user_id, joined_at) VALUES ('r1', 'carol', now() - interval '1 day'), ('r1', 'bob', now() - interval '1 day')`)
	mustExec(`INSERT INTO messages (sender_id, room_id, body, created_at) VALUES ('carol', 'r1', 'room news', now() - interval '10 minutes')`)

	if err := migrate.Up(ctx, dbURL); err != nil {
		t.Fatal(err)
	}

	type row struct {
		id     string
		last   string
		unread int
		read   bool
	}
	rows, err := conn.Query(ctx, `SELECT c.id, m.body, c.unread_count, c.last_read_at IS NOT NULL
	  FROM conversations c JOIN messages m ON m.id = c.last_message_id
	  WHERE c.user_id = 'bob' ORDER BY c.updated_at DESC`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		return x, r.Scan(&x.id, &x.last, &x.unread, &x.read)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []row{{"room:r1", "room news", 0, true}, {"chat:alice", "last", 2, true}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("bob's conversations after the upgrade = %+v, want %+v", got, want)
	}
	var aliceUnread, version int
	if err := conn.QueryRow(ctx, `SELECT unread_count FROM conversations WHERE user_id = 'alice' AND id = 'chat:bob'`).Scan(&aliceUnread); err != nil {
		t.Fatal(err)
	}
	if aliceUnread != 1 {
		t.Errorf("alice's unread = %d, want 1", aliceUnread)
	}
	if err := conn.QueryRow(ctx, `SELECT min(version) FROM messages`).Scan(&version); err != nil || version != 1 {
		t.Errorf("existing messages: version %d (%v), want 1", version, err)
	}

	// The triggers work on the upgraded data: bob writes back, which reads
	// alice's messages.
	mustExec(`INSERT INTO messages (sender_id, receiver_id, body) VALUES ('bob', 'alice', 'after the upgrade')`)
	var bobUnread int
	if err := conn.QueryRow(ctx, `SELECT unread_count FROM conversations WHERE user_id = 'bob' AND id = 'chat:alice'`).Scan(&bobUnread); err != nil || bobUnread != 0 {
		t.Errorf("bob's unread after writing back = %d (%v), want 0", bobUnread, err)
	}
}
