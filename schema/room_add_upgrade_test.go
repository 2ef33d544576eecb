package schema_test

import (
	"testing"

	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/migrate"
)

// Schema 10 shows a room member's status only if they joined the room
// themselves. Memberships from before have no record of who added whom:
// they count as joined by the user, so everyone who saw a co-member keeps
// seeing them after the upgrade, while an add made afterwards reveals
// nothing until the added user accepts.
func TestRoomAddUpgradeKeepsExistingMembersVisible(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewEmptyDatabase(t)
	if err := migrate.To(ctxFor(t), dbURL, 9); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dbURL)
	ownerExec(t, conn, `INSERT INTO users (id, online, last_active_at) VALUES ('alice', true, now()), ('bob', true, now())`)
	ownerExec(t, conn, `INSERT INTO rooms (id, name, visibility, created_by) VALUES ('r1', 'r1', 'private', 'alice')`)
	ownerExec(t, conn, `INSERT INTO room_members (room_id, user_id) VALUES ('r1', 'alice'), ('r1', 'bob')`)
	conn.Close(ctxFor(t))
	if err := migrate.Up(ctxFor(t), dbURL); err != nil {
		t.Fatal(err)
	}
	conn = connect(t, dbURL)
	if got := ownerInt(t, conn, `SELECT count(*) FROM room_members WHERE added_by IS NULL`); got != 2 {
		t.Errorf("%d memberships without added_by after the upgrade, want both", got)
	}
	sees := func(viewer, target string) bool {
		t.Helper()
		var ok bool
		if err := conn.QueryRow(ctxFor(t), `SELECT chatwire_sees($1, $2)`, viewer, target).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !sees("alice", "bob") || !sees("bob", "alice") {
		t.Errorf("after the upgrade alice sees bob: %v, bob sees alice: %v; want both", sees("alice", "bob"), sees("bob", "alice"))
	}
	// An add made under schema 10 is recorded and reveals nothing.
	ownerExec(t, conn, `INSERT INTO users (id, online, last_active_at) VALUES ('carol', true, now())`)
	ownerExec(t, conn, `INSERT INTO room_members (room_id, user_id, added_by) VALUES ('r1', 'carol', 'alice')`)
	if sees("alice", "carol") || sees("bob", "carol") {
		t.Errorf("carol, added by alice, is visible to the room")
	}
	if !sees("carol", "alice") {
		t.Errorf("carol does not see alice, who joined the room herself")
	}
}
