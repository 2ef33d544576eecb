package schema_test

import (
	"testing"

	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/migrate"
)

// Schema 4 gives contacts one direction: (user_id, contact_id) means user_id
// wrote to contact_id. A database from before, whose first messages wrote
// both directions, keeps exactly the pairs where someone really wrote.
func TestPresencePrivacyUpgradeKeepsOnlyWhoWroteToWhom(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewEmptyDatabase(t)
	if err := migrate.To(ctxFor(t), dbURL, 3); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dbURL)
	ownerExec(t, conn, `INSERT INTO messages (sender_id, receiver_id, body) VALUES
		('alice', 'bob', 'hi'), ('alice', 'bob', 'again'), ('carol', 'alice', 'unasked'),
		('dave', 'erin', 'hi'), ('erin', 'dave', 'hi back')`)
	if got := ownerInt(t, conn, `SELECT count(*) FROM contacts`); got != 6 {
		t.Fatalf("schema 3 wrote %d contacts, want both directions of 3 chats", got)
	}
	conn.Close(ctxFor(t))
	if err := migrate.Up(ctxFor(t), dbURL); err != nil {
		t.Fatal(err)
	}
	conn = connect(t, dbURL)
	var got string
	if err := conn.QueryRow(ctxFor(t), `SELECT string_agg(user_id || '>' || contact_id, ' ' ORDER BY user_id, contact_id) FROM contacts`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := "alice>bob carol>alice dave>erin erin>dave"; got != want {
		t.Errorf("contacts after the upgrade: %s, want %s", got, want)
	}
	if got := ownerInt(t, conn, `SELECT count(*) FROM messages`); got != 5 {
		t.Errorf("messages: %d after the upgrade, want 5", got)
	}
	if got := ownerInt(t, conn, `SELECT count(*) FROM users WHERE presence_hidden`); got != 0 {
		t.Errorf("%d users hidden by the upgrade, want none", got)
	}
}
