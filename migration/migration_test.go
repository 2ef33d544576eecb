// Package migration_test runs the SQL scripts of migration/ against a real
// PostgreSQL with chatwire's schema, the way psql would run them.
package migration_test

import (
	"context"
	"crypto/md5"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// legacyRow is a row of a Supabase-style legacy_messages table.
type legacyRow struct {
	id, sender, receiver, content string
	createdAt                     time.Time
	isRead                        *bool
}

var (
	yes = true
	no  = false
)

// at is a timestamp with microseconds, which the import must keep exactly.
func at(year int, month time.Month, day, hour, min, sec, usec int) time.Time {
	return time.Date(year, month, day, hour, min, sec, usec*1000, time.UTC)
}

func TestImportKeepsMessagesAndWritesNoEvents(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	conn := connect(t, dbtest.NewDatabase(t))
	exec(t, conn, `INSERT INTO users (id, name) VALUES ('alice', 'Alice'), ('bob', 'Bob'), ('carol', 'Carol')`)
	exec(t, conn, `CREATE TABLE legacy_messages (
	  id uuid PRIMARY KEY, sender_id text, receiver_id text, content text,
	  created_at timestamptz NOT NULL DEFAULT now(), is_read boolean DEFAULT false)`)
	rows := []legacyRow{
		{"0b6f4c1e-6a4e-4f55-9d7e-0c2f1d1a0001", "alice", "bob", "Grüße, 世界 👋", at(2021, 3, 4, 5, 6, 7, 123456), &yes},
		{"0b6f4c1e-6a4e-4f55-9d7e-0c2f1d1a0002", "bob", "alice", "and back", at(2021, 3, 4, 5, 6, 8, 1), &no},
		{"0b6f4c1e-6a4e-4f55-9d7e-0c2f1d1a0003", "carol", "alice", "another chat", at(2023, 12, 31, 23, 59, 59, 999999), nil},
		{"0b6f4c1e-6a4e-4f55-9d7e-0c2f1d1a0004", "alice", "carol", "", at(2024, 1, 1, 0, 0, 0, 500), &yes},
	}
	insertLegacy(t, conn, rows)
	// A row without a receiver cannot be a 1:1 message: left out, and counted.
	exec(t, conn, `INSERT INTO legacy_messages (id, sender_id, receiver_id, content)
	               VALUES ('0b6f4c1e-6a4e-4f55-9d7e-0c2f1d1a0009', 'alice', NULL, 'broadcast')`)

	if got, want := runImport(t, conn), (report{legacyRows: 5, inMessages: 4, leftOut: 1}); got != want {
		t.Fatalf("first run report = %+v, want %+v", got, want)
	}
	for _, r := range rows {
		m := message(t, conn, r.id)
		if got, want := m.clientID, (*string)(nil); got != want {
			t.Errorf("%s: client_id = %q, want NULL", r.id, *got)
		}
		if got, want := m.sender+"→"+m.receiver, r.sender+"→"+r.receiver; got != want {
			t.Errorf("%s: sender→receiver = %s, want %s", r.id, got, want)
		}
		if got, want := m.body, r.content; got != want {
			t.Errorf("%s: body = %q, want %q", r.id, got, want)
		}
		if got, want := m.createdAt, r.createdAt; !got.Equal(want) {
			t.Errorf("%s: created_at = %s, want %s", r.id, got.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
		}
		// is_read becomes read_at = created_at; false and NULL stay unread.
		var want *time.Time
		if r.isRead != nil && *r.isRead {
			want = &r.createdAt
		}
		if !sameTime(m.readAt, want) {
			t.Errorf("%s: read_at = %v, want %v", r.id, m.readAt, want)
		}
	}
	if got, want := contacts(t, conn), "alice:bob alice:carol bob:alice carol:alice"; got != want {
		t.Errorf("contacts = %q, want %q", got, want)
	}
	if got, want := eventCount(t, conn), 0; got != want {
		t.Errorf("events after import = %d, want %d", got, want)
	}

	// Twice, after one more legacy row arrived, an old client marked a message
	// read and another edited one: only the new row is imported, the receipt
	// is carried over, the edit is not.
	exec(t, conn, `UPDATE legacy_messages SET is_read = true WHERE id = '0b6f4c1e-6a4e-4f55-9d7e-0c2f1d1a0002'`)
	exec(t, conn, `UPDATE legacy_messages SET content = 'edited' WHERE id = '0b6f4c1e-6a4e-4f55-9d7e-0c2f1d1a0001'`)
	insertLegacy(t, conn, []legacyRow{
		{"0b6f4c1e-6a4e-4f55-9d7e-0c2f1d1a0005", "bob", "carol", "late", at(2024, 2, 1, 0, 0, 0, 0), &no},
	})
	if got, want := runImport(t, conn), (report{legacyRows: 6, inMessages: 5, leftOut: 1}); got != want {
		t.Fatalf("second run report = %+v, want %+v", got, want)
	}
	if got, want := count(t, conn, "SELECT count(*) FROM messages"), 5; got != want {
		t.Errorf("messages after second run = %d, want %d", got, want)
	}
	// contacts holds who wrote to whom (schema 4): bob wrote to carol, not
	// the reverse.
	if got, want := contacts(t, conn), "alice:bob alice:carol bob:alice bob:carol carol:alice"; got != want {
		t.Errorf("contacts after second run = %q, want %q", got, want)
	}
	if got, want := eventCount(t, conn), 0; got != want {
		t.Errorf("events after second run = %d, want %d", got, want)
	}
	// The conversation list (schema 9) has the imported chats and their unread
	// counts, the receipt carried over included, though the import is quiet.
	var unread string
	if err := conn.QueryRow(ctx, `SELECT string_agg(user_id || ' ' || id || '=' || unread_count, ', ' ORDER BY user_id, id) FROM conversations`).Scan(&unread); err != nil {
		t.Fatal(err)
	}
	if want := "alice chat:bob=0, alice chat:carol=1, bob chat:alice=0, bob chat:carol=0, carol chat:alice=0, carol chat:bob=1"; unread != want {
		t.Errorf("conversations after the import = %q, want %q", unread, want)
	}
	if m := message(t, conn, rows[1].id); !sameTime(m.readAt, &rows[1].createdAt) {
		t.Errorf("read_at of a message read since the first run = %v, want %s", m.readAt, rows[1].createdAt)
	}
	if m := message(t, conn, rows[0].id); m.body != rows[0].content {
		t.Errorf("body after an edit in the legacy table = %q, want %q", m.body, rows[0].content)
	}

	// The setting ended with the import's transaction: on the very same
	// connection, a new message and a read receipt write their events again.
	var importing *string
	if err := conn.QueryRow(ctx, "SELECT current_setting('chatwire.importing', true)").Scan(&importing); err != nil {
		t.Fatal(err)
	}
	if importing != nil && *importing == "on" {
		t.Fatalf("chatwire.importing = on after the import's transaction")
	}
	exec(t, conn, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('bob', 'alice', 'live again')`)
	exec(t, conn, `UPDATE messages SET read_at = now() WHERE id = '0b6f4c1e-6a4e-4f55-9d7e-0c2f1d1a0003'`)
	// The read also lowers alice's unread count and tells her devices (schema 9).
	if got, want := eventNames(t, conn), "new-message message-notification conversation-read message-read"; got != want {
		t.Errorf("events after the import = %q, want %q", got, want)
	}
}

func TestImportMapsNonUUIDIDsToStableUUIDs(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	conn := connect(t, dbtest.NewDatabase(t))
	exec(t, conn, `CREATE TABLE legacy_messages (
	  id bigserial PRIMARY KEY, sender_id text, receiver_id text, content text,
	  created_at timestamptz NOT NULL DEFAULT now(), is_read boolean NOT NULL DEFAULT false)`)
	exec(t, conn, `INSERT INTO legacy_messages (id, sender_id, receiver_id, content, created_at, is_read) VALUES
	  (7, 'alice', 'bob', 'seven', '2020-01-02 03:04:05.678901+00', true),
	  (42, 'bob', 'alice', 'forty-two', '2020-01-02 03:04:06+00', false)`)

	for run := 1; run <= 2; run++ {
		if got, want := runImport(t, conn), (report{legacyRows: 2, inMessages: 2, leftOut: 0}); got != want {
			t.Fatalf("run %d report = %+v, want %+v", run, got, want)
		}
	}
	for _, legacyID := range []string{"7", "42"} {
		var clientID string
		err := conn.QueryRow(ctx, "SELECT client_id FROM messages WHERE id = $1::text::uuid", uuidV3(legacyID)).Scan(&clientID)
		if err != nil {
			t.Fatalf("legacy id %s: no message with id %s: %v", legacyID, uuidV3(legacyID), err)
		}
		if got, want := clientID, "legacy-"+legacyID; got != want {
			t.Errorf("legacy id %s: client_id = %q, want %q", legacyID, got, want)
		}
	}
	if got, want := count(t, conn, "SELECT count(*) FROM messages"), 2; got != want {
		t.Errorf("messages = %d, want %d", got, want)
	}
	if got, want := eventCount(t, conn), 0; got != want {
		t.Errorf("events = %d, want %d", got, want)
	}
}

func TestImportIsAllOrNothing(t *testing.T) {
	t.Parallel()
	conn := connect(t, dbtest.NewDatabase(t))
	exec(t, conn, `CREATE TABLE legacy_messages (
	  id bigint PRIMARY KEY, sender_id text, receiver_id text, content text,
	  created_at timestamptz NOT NULL, is_read boolean)`)
	exec(t, conn, `INSERT INTO legacy_messages VALUES
	  (1, 'alice', 'bob', 'first', '2020-01-01 00:00:00+00', false),
	  (2, 'carol', 'dave', 'second', '2020-01-01 00:00:01+00', false)`)
	// carol already sent a message whose client_id is the one legacy row 2
	// needs: the import must stop without importing row 1 either.
	exec(t, conn, `INSERT INTO messages (sender_id, receiver_id, body, client_id)
	               VALUES ('carol', 'erin', 'taken', 'legacy-2')`)
	before := eventCount(t, conn)

	script := readScript(t)
	if _, err := conn.PgConn().Exec(testContext(t), script).ReadAll(); err == nil {
		t.Fatal("import succeeded despite a conflicting client_id")
	}
	// psql with ON_ERROR_STOP would now exit, ending the failed transaction.
	exec(t, conn, "ROLLBACK")
	if got, want := count(t, conn, "SELECT count(*) FROM messages"), 1; got != want {
		t.Errorf("messages after the failed import = %d, want %d", got, want)
	}
	if got, want := count(t, conn, "SELECT count(*) FROM contacts WHERE user_id IN ('alice', 'bob', 'dave')"), 0; got != want {
		t.Errorf("contacts of the failed import = %d, want %d", got, want)
	}
	if got, want := eventCount(t, conn), before; got != want {
		t.Errorf("events = %d, want %d", got, want)
	}
}

// report is the row the import script prints at its end.
type report struct{ legacyRows, inMessages, leftOut int }

// runImport runs the whole script in one simple-protocol round trip, as psql
// would, and returns its report.
func runImport(t *testing.T, conn *pgx.Conn) report {
	t.Helper()
	results, err := conn.PgConn().Exec(testContext(t), readScript(t)).ReadAll()
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	for _, r := range results {
		if len(r.FieldDescriptions) == 3 && len(r.Rows) == 1 {
			var rep report
			for i, dst := range []*int{&rep.legacyRows, &rep.inMessages, &rep.leftOut} {
				if _, err := fmt.Sscan(string(r.Rows[0][i]), dst); err != nil {
					t.Fatalf("report column %d: %v", i, err)
				}
			}
			return rep
		}
	}
	t.Fatal("import printed no report")
	return report{}
}

func readScript(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("import_legacy_messages.sql")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func insertLegacy(t *testing.T, conn *pgx.Conn, rows []legacyRow) {
	t.Helper()
	for _, r := range rows {
		_, err := conn.Exec(testContext(t),
			`INSERT INTO legacy_messages (id, sender_id, receiver_id, content, created_at, is_read)
			 VALUES ($1, $2, $3, $4, $5, $6)`,
			r.id, r.sender, r.receiver, r.content, r.createdAt, r.isRead)
		if err != nil {
			t.Fatal(err)
		}
	}
}

type storedMessage struct {
	clientID               *string
	sender, receiver, body string
	createdAt              time.Time
	readAt                 *time.Time
}

func message(t *testing.T, conn *pgx.Conn, id string) storedMessage {
	t.Helper()
	var m storedMessage
	err := conn.QueryRow(testContext(t),
		`SELECT client_id, sender_id, receiver_id, body, created_at, read_at FROM messages WHERE id = $1::text::uuid`, id).
		Scan(&m.clientID, &m.sender, &m.receiver, &m.body, &m.createdAt, &m.readAt)
	if err != nil {
		t.Fatalf("message %s: %v", id, err)
	}
	return m
}

func contacts(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	var s string
	err := conn.QueryRow(testContext(t),
		`SELECT coalesce(string_agg(user_id || ':' || contact_id, ' ' ORDER BY user_id, contact_id), '') FROM contacts`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func eventCount(t *testing.T, conn *pgx.Conn) int {
	t.Helper()
	return count(t, conn, "SELECT count(*) FROM events")
}

func eventNames(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	var s string
	if err := conn.QueryRow(testContext(t), `SELECT coalesce(string_agg(event, ' ' ORDER BY id), '') FROM events`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func count(t *testing.T, conn *pgx.Conn, sql string) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(testContext(t), sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func exec(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(testContext(t), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx := testContext(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.Close(ctx)
	})
	return conn
}

func testContext(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// uuidV3 is the name-based UUID (RFC 9562, version 3) of name in the
// namespace the import script uses for ids that are not uuids.
func uuidV3(name string) string {
	ns := []byte{0x4d, 0x46, 0x35, 0xfc, 0xe8, 0x95, 0x42, 0x8c, 0xa7, 0xee, 0x04, 0xd1, 0xed, 0xd6, 0xab, 0x36}
	sum := md5.Sum(append(ns, name...))
	sum[6] = sum[6]&0x0f | 0x30
	sum[8] = sum[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}
