package schema_test

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/migrate"
	"github.com/chatwire/chatwire/lib/store"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// Supabase user ids are uuids (auth.uid() casts the sub to one).
const (
	alice = "00000000-0000-4000-8000-00000000a11c"
	bob   = "00000000-0000-4000-8000-000000000b0b"
	carol = "00000000-0000-4000-8000-0000000ca201"
)

// migrationStep returns the code block MIGRATION.md marks with
// <!-- migration-test: name -->, so the test runs exactly what the docs say.
func migrationStep(t *testing.T, name string) string {
	t.Helper()
	doc, err := os.ReadFile("../MIGRATION.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- migration-test: " + regexp.QuoteMeta(name) + " -->\n```[a-z]*\n(.*?)```")
	m := re.FindSubmatch(doc)
	if m == nil {
		t.Fatalf("MIGRATION.md has no block marked migration-test: %s", name)
	}
	return string(m[1])
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func connect(t *testing.T, dbURL string) *pgx.Conn {
	t.Helper()
	ctx := ctxFor(t)
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func ownerExec(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(ctxFor(t), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func ownerInt(t *testing.T, conn *pgx.Conn, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(ctxFor(t), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// api runs one statement as the Data API would for a request by sub in role,
// and returns the rows it affected (or returned) and its error.
func api(t *testing.T, conn *pgx.Conn, role, sub, sql string, args ...any) (int64, error) {
	t.Helper()
	var n int64
	err := dbtest.AsDataAPI(ctxFor(t), conn, role, sub, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctxFor(t), sql, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
		}
		rows.Close()
		n = rows.CommandTag().RowsAffected()
		return rows.Err()
	})
	return n, err
}

// allowed runs a statement the docs allow and fails the test if it errs.
func allowed(t *testing.T, conn *pgx.Conn, role, sub, sql string, args ...any) int64 {
	t.Helper()
	n, err := api(t, conn, role, sub, sql, args...)
	if err != nil {
		t.Fatalf("as %s (%s): %s: %v", role, sub, sql, err)
	}
	return n
}

// refused runs an attack and fails the test unless Postgres refuses it with
// one of the SQLSTATE codes.
func refused(t *testing.T, conn *pgx.Conn, role, sub, sql string, codes ...string) {
	t.Helper()
	n, err := api(t, conn, role, sub, sql)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		t.Fatalf("as %s: %s: succeeded (%d rows), want it refused with %v (err %v)", role, sql, n, codes, err)
	}
	for _, c := range codes {
		if pgErr.Code == c {
			return
		}
	}
	t.Fatalf("as %s: %s: %s %s, want one of %v", role, sql, pgErr.Code, pgErr.Message, codes)
}

// seesNothing runs a read and fails unless it is refused or returns no row.
func seesNothing(t *testing.T, conn *pgx.Conn, role, sub, sql string) {
	t.Helper()
	n, err := api(t, conn, role, sub, sql)
	if err == nil && n > 0 {
		t.Fatalf("as %s (%s): %s returned %d rows", role, sub, sql, n)
	}
}

const (
	permissionDenied = "42501"
	rlsViolation     = "42501" // new row violates row-level security policy
)

// chatwireTables lists the tables of the schema; on a plain test database
// every table in public is chatwire's.
func chatwireTables(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(ctxFor(t), `SELECT relname FROM pg_class
		WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') ORDER BY relname`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) < 9 {
		t.Fatalf("found only tables %v", tables)
	}
	return tables
}

// TestEveryTableLockedDownOnSupabase checks the state the migrations leave,
// for every table and trigger function there is (a later migration that adds
// a table or replaces a trigger function is held to the same rule).
func TestEveryTableLockedDownOnSupabase(t *testing.T) {
	t.Parallel()
	conn := connect(t, dbtest.NewSupabaseDatabase(t, -1))
	for _, table := range chatwireTables(t, conn) {
		var rls bool
		var grantees []string
		err := conn.QueryRow(ctxFor(t), `SELECT c.relrowsecurity, ARRAY(
			  SELECT DISTINCT pg_get_userbyid(a.grantee) FROM (
			    SELECT (aclexplode(c.relacl)).*
			    UNION ALL SELECT (aclexplode(t.attacl)).* FROM pg_attribute t WHERE t.attrelid = c.oid
			    UNION ALL SELECT (aclexplode(s.relacl)).* FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
			      WHERE d.refobjid = c.oid AND d.classid = 'pg_class'::regclass) a
			  WHERE a.grantee <> c.relowner)
			FROM pg_class c WHERE c.oid = ('public.' || quote_ident($1))::regclass`, table).Scan(&rls, &grantees)
		if err != nil {
			t.Fatal(err)
		}
		if !rls {
			t.Errorf("table %s: row-level security off", table)
		}
		if len(grantees) > 0 {
			t.Errorf("table %s: granted to %v", table, grantees)
		}
		for _, role := range dbtest.SupabaseRoles {
			seesNothing(t, conn, role, alice, `SELECT * FROM `+pgx.Identifier{table}.Sanitize())
		}
	}

	rows, err := conn.Query(ctxFor(t), `SELECT p.proname, p.prosecdef, coalesce(array_to_string(p.proconfig, ','), '')
		FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.prorettype = 'trigger'::regtype`)
	if err != nil {
		t.Fatal(err)
	}
	type fn struct {
		Name    string
		Definer bool
		Config  string
	}
	fns, err := pgx.CollectRows(rows, pgx.RowToStructByPos[fn])
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) < 4 {
		t.Fatalf("found only trigger functions %v", fns)
	}
	for _, f := range fns {
		if !f.Definer || f.Config != "search_path=public, pg_temp" {
			t.Errorf("trigger function %s: security definer %v, config %q; want definer with search_path=public, pg_temp",
				f.Name, f.Definer, f.Config)
		}
	}
}

// seed writes, as chatwire (the owner) would, a chat between alice and bob,
// one between alice and carol, and a room.
func seed(t *testing.T, conn *pgx.Conn) (aliceToBob string) {
	t.Helper()
	ownerExec(t, conn, `INSERT INTO users (id, name) VALUES ($1, 'Alice'), ($2, 'Bob'), ($3, 'Carol')`, alice, bob, carol)
	if err := conn.QueryRow(ctxFor(t), `INSERT INTO messages (sender_id, receiver_id, body) VALUES ($1, $2, 'hi bob') RETURNING id::text`,
		alice, bob).Scan(&aliceToBob); err != nil {
		t.Fatal(err)
	}
	ownerExec(t, conn, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ($1, $2, 'secret for carol')`, alice, carol)
	ownerExec(t, conn, `INSERT INTO rooms (id, name, created_by) VALUES ('r1', 'room', $1)`, alice)
	ownerExec(t, conn, `INSERT INTO room_members (room_id, user_id) VALUES ('r1', $1)`, alice)
	ownerExec(t, conn, `INSERT INTO messages (sender_id, room_id, body) VALUES ($1, 'r1', 'room talk')`, alice)
	return aliceToBob
}

// TestLegacyWritersGetExactlyWhatMigrationMDSays turns legacy writers on with
// MIGRATION.md's statement, does everything the docs allow as the Data API
// would, tries the attacks of issue 11 (points 1, 2 and 6), then turns them
// off and finds everything refused.
func TestLegacyWritersGetExactlyWhatMigrationMDSays(t *testing.T) {
	t.Parallel()
	conn := connect(t, dbtest.NewSupabaseDatabase(t, -1))
	aliceToBob := seed(t, conn)
	ownerExec(t, conn, migrationStep(t, "legacy-writers-on"))

	// Allowed: insert own message (as supabase-js does, with RETURNING).
	if n := allowed(t, conn, "authenticated", bob,
		`INSERT INTO messages (sender_id, receiver_id, body) VALUES ('`+bob+`', '`+alice+`', '  hi alice  ') RETURNING id`); n != 1 {
		t.Fatalf("insert returned %d rows", n)
	}
	// Without sender_id, the sender is the caller.
	allowed(t, conn, "authenticated", bob, `INSERT INTO messages (receiver_id, body, client_id) VALUES ('`+alice+`', 'again', 'c-1')`)
	var body, sender string
	var events, readSet int
	if err := conn.QueryRow(ctxFor(t), `SELECT body, (SELECT count(*) FROM events WHERE event = 'new-message' AND data ->> 'id' = m.id::text),
			(read_at IS NOT NULL)::int FROM messages m WHERE sender_id = $1 AND body = 'hi alice'`, bob).Scan(&body, &events, &readSet); err != nil {
		t.Fatalf("bob's legacy message: %v", err)
	}
	if events != 1 || readSet != 0 {
		t.Fatalf("legacy insert: %d new-message events, read_at set %d; want 1 event, unread", events, readSet)
	}
	if err := conn.QueryRow(ctxFor(t), `SELECT sender_id FROM messages WHERE client_id = 'c-1'`).Scan(&sender); err != nil || sender != bob {
		t.Fatalf("insert without sender_id: sender %q (%v), want bob", sender, err)
	}
	// Read own conversations: both directions of alice–bob, nothing else.
	if n := allowed(t, conn, "authenticated", bob, `SELECT id FROM messages`); n != 3 {
		t.Fatalf("bob reads %d messages, want his 3", n)
	}
	// Mark a received message read.
	if n := allowed(t, conn, "authenticated", bob, `UPDATE messages SET read_at = now() WHERE id = '`+aliceToBob+`'`); n != 1 {
		t.Fatalf("mark read updated %d rows", n)
	}
	if got := ownerInt(t, conn, `SELECT count(*) FROM events WHERE event = 'message-read'`); got != 1 {
		t.Fatalf("%d message-read events, want 1", got)
	}

	// Point 1: the rate limit is nobody's business.
	for _, role := range dbtest.SupabaseRoles {
		refused(t, conn, role, bob, `SELECT * FROM send_rate_limit`, permissionDenied)
		refused(t, conn, role, bob, `UPDATE send_rate_limit SET tokens = -1e9, updated_at = now() + interval '1 day'`, permissionDenied)
		refused(t, conn, role, bob, `DELETE FROM send_rate_limit WHERE user_id = '`+bob+`'`, permissionDenied)
		refused(t, conn, role, bob, `INSERT INTO send_rate_limit VALUES ('`+alice+`', -1e9, now() + interval '1 year', false)`, permissionDenied)
	}

	// Point 2: forging messages.
	refused(t, conn, "authenticated", bob, `UPDATE messages SET body = 'forged', created_at = now() - interval '1 year' WHERE id = '`+aliceToBob+`'`, permissionDenied)
	refused(t, conn, "authenticated", bob, `UPDATE messages SET sender_id = '`+alice+`' WHERE sender_id = '`+bob+`'`, permissionDenied)
	refused(t, conn, "authenticated", bob, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('`+alice+`', '`+carol+`', 'as alice')`, "PT403", rlsViolation)
	refused(t, conn, "authenticated", bob, `INSERT INTO messages (id, sender_id, receiver_id, body) VALUES (gen_random_uuid(), '`+bob+`', '`+alice+`', 'x')`, permissionDenied)
	refused(t, conn, "authenticated", bob, `INSERT INTO messages (sender_id, receiver_id, body, created_at) VALUES ('`+bob+`', '`+alice+`', 'x', '2000-01-01')`, permissionDenied)
	refused(t, conn, "authenticated", bob, `INSERT INTO messages (sender_id, receiver_id, body, read_at) VALUES ('`+bob+`', '`+alice+`', 'x', now())`, permissionDenied)
	refused(t, conn, "authenticated", bob, `INSERT INTO messages (sender_id, room_id, body) VALUES ('`+bob+`', 'r1', 'x')`, permissionDenied)
	refused(t, conn, "authenticated", bob, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('`+bob+`', '`+alice+`', repeat('x', 4001))`, "PT400")
	refused(t, conn, "authenticated", bob, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('`+bob+`', '`+alice+`', '   ')`, "PT400")
	refused(t, conn, "authenticated", bob, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('`+bob+`', '`+bob+`', 'me')`, "PT400")
	refused(t, conn, "authenticated", bob, `DELETE FROM messages WHERE sender_id = '`+bob+`'`, permissionDenied)
	refused(t, conn, "anon", "", `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('`+bob+`', '`+alice+`', 'x')`, permissionDenied)
	// Another user's chat and a room stay unreadable; marking read is for the receiver only.
	seesNothing(t, conn, "authenticated", carol, `SELECT * FROM messages WHERE sender_id = '`+bob+`' OR room_id IS NOT NULL`)
	if n := allowed(t, conn, "authenticated", bob, `UPDATE messages SET read_at = now() WHERE sender_id = '`+bob+`'`); n != 0 {
		t.Fatalf("bob marked %d of his own sent messages read", n)
	}
	// read_at never moves back to unread, nor to a time of the client's choosing.
	allowed(t, conn, "authenticated", bob, `UPDATE messages SET read_at = NULL WHERE id = '`+aliceToBob+`'`)
	allowed(t, conn, "authenticated", bob, `UPDATE messages SET read_at = '2000-01-01' WHERE id = '`+aliceToBob+`'`)
	if got := ownerInt(t, conn, `SELECT count(*) FROM messages WHERE id = $1 AND read_at > now() - interval '1 hour'`, aliceToBob); got != 1 {
		t.Fatalf("read_at of a read message was changed by its receiver")
	}
	// Point 6: no attachment from a legacy writer (another writer's malformed
	// one is read defensively: see the upgrade test).
	refused(t, conn, "authenticated", bob, `INSERT INTO messages (sender_id, receiver_id, body, attachment) VALUES ('`+bob+`', '`+alice+`', 'x', '"x"')`, permissionDenied)

	// The send rate limit holds. With a window no test run can outlast: 3
	// per hour, of which bob's bucket (filled by the 2 inserts above under the
	// old limit) has at most 3 left, so 4 inserts cannot all pass.
	ownerExec(t, conn, `SELECT chatwire_legacy_writers('authenticated', true, 3, interval '1 hour')`)
	ownerExec(t, conn, `DELETE FROM send_rate_limit`)
	for i := range 3 {
		allowed(t, conn, "authenticated", bob, `INSERT INTO messages (receiver_id, body) VALUES ('`+alice+`', 'within the limit `+strconv.Itoa(i)+`')`)
	}
	if _, err := api(t, conn, "authenticated", bob, `INSERT INTO messages (receiver_id, body) VALUES ('`+alice+`', 'one too many')`); !isCode(err, "PT429") {
		t.Fatalf("4th insert of 3 per hour: %v, want PT429 (rate limited)", err)
	}
	if got := ownerInt(t, conn, `SELECT count(*) FROM messages WHERE body = 'one too many'`); got != 0 {
		t.Fatalf("the rate-limited insert was stored")
	}

	// Off: every grant is gone.
	ownerExec(t, conn, migrationStep(t, "legacy-writers-off"))
	refused(t, conn, "authenticated", bob, `INSERT INTO messages (receiver_id, body) VALUES ('`+alice+`', 'after')`, permissionDenied)
	refused(t, conn, "authenticated", bob, `SELECT id FROM messages`, permissionDenied)
	refused(t, conn, "authenticated", alice, `UPDATE messages SET read_at = now() WHERE receiver_id = '`+alice+`'`, permissionDenied)
	var leftover int
	if err := conn.QueryRow(ctxFor(t), `SELECT (SELECT count(*) FROM pg_policy WHERE polrelid = 'messages'::regclass)
		+ (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'messages'::regclass AND tgname LIKE 'chatwire_legacy%')
		+ (SELECT count(*) FROM chatwire_legacy_writers)`).Scan(&leftover); err != nil || leftover != 0 {
		t.Fatalf("after off: %d policies, triggers or settings left (%v)", leftover, err)
	}
}

func migrateUp(t *testing.T, dbURL string) error {
	t.Helper()
	return migrate.Up(ctxFor(t), dbURL)
}

func isCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

// TestLockDownUpgradesAProjectThatFollowedTheOldSteps builds schema 2 as an
// existing Supabase project has it (the old MIGRATION.md lock-down applied by
// hand, data written, a malformed attachment among it), runs the upgrade step
// MIGRATION.md gives, and checks the data is intact and the old grants gone.
func TestLockDownUpgradesAProjectThatFollowedTheOldSteps(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewSupabaseDatabase(t, 2)
	conn := connect(t, dbURL)
	old, err := os.ReadFile("testdata/migration_md_v2_lockdown.sql")
	if err != nil {
		t.Fatal(err)
	}
	ownerExec(t, conn, string(old))
	// Before: the holes of issue 11 are open.
	if _, err := api(t, conn, "anon", "", `SELECT * FROM send_rate_limit`); err != nil {
		t.Fatalf("schema 2 with the old steps: anon reading send_rate_limit: %v; the upgrade test starts from the wrong state", err)
	}
	aliceToBob := seed(t, conn)
	allowed(t, conn, "authenticated", bob, `INSERT INTO messages (sender_id, receiver_id, body, attachment) VALUES ('`+bob+`', '`+alice+`', 'old client', '"x"')`)
	ownerExec(t, conn, `INSERT INTO send_rate_limit VALUES ($1, 3, now(), true)`, bob)
	before := ownerInt(t, conn, `SELECT count(*) FROM messages`)

	step := migrationStep(t, "upgrade")
	if strings.TrimSpace(strings.SplitN(step, "#", 2)[0]) != "chatwire migrate" {
		t.Fatalf("MIGRATION.md's upgrade step is %q; this test runs chatwire migrate (migrate.Up)", step)
	}
	conn.Close(ctxFor(t))
	if err := migrateUp(t, dbURL); err != nil {
		t.Fatal(err)
	}
	conn = connect(t, dbURL)

	if got := ownerInt(t, conn, `SELECT count(*) FROM messages`); got != before {
		t.Fatalf("messages: %d after the upgrade, %d before", got, before)
	}
	if got := ownerInt(t, conn, `SELECT count(*) FROM send_rate_limit`); got != 1 {
		t.Fatalf("send_rate_limit rows: %d, want 1", got)
	}
	if got := ownerInt(t, conn, `SELECT count(*) FROM pg_policy WHERE polrelid = 'messages'::regclass`); got != 0 {
		t.Fatalf("%d old policies left on messages", got)
	}
	refused(t, conn, "anon", "", `SELECT * FROM send_rate_limit`, permissionDenied)
	refused(t, conn, "authenticated", bob, `SELECT * FROM messages`, permissionDenied)
	refused(t, conn, "authenticated", bob, `UPDATE messages SET body = 'forged' WHERE id = '`+aliceToBob+`'`, permissionDenied)
	refused(t, conn, "authenticated", bob, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('`+bob+`', '`+alice+`', 'x')`, permissionDenied)

	// History never fails on the malformed attachment an old client wrote.
	pool, err := pgxpool.New(ctxFor(t), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	page, err := store.New(pool).History(ctxFor(t), chat.HistoryQuery{UserID: alice, With: bob, Limit: 10})
	if err != nil {
		t.Fatalf("history with a malformed attachment: %v", err)
	}
	if len(page) != 2 || page[0].Body != "old client" || page[0].Attachment != nil {
		t.Fatalf("history = %+v, want bob's old-client message (attachment dropped) and alice's", page)
	}

	// The parallel run goes on after the opt-in.
	ownerExec(t, conn, migrationStep(t, "legacy-writers-on"))
	allowed(t, conn, "authenticated", bob, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('`+bob+`', '`+alice+`', 'after the upgrade')`)
	if n := allowed(t, conn, "authenticated", alice, `UPDATE messages SET read_at = now() WHERE receiver_id = '`+alice+`' AND read_at IS NULL`); n != 2 {
		t.Fatalf("alice marked %d messages read, want bob's 2", n)
	}
}
