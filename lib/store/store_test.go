package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/store"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// queryModes are the ways pgx talks to Postgres: the default (prepared,
// cached statements) and the two PgBouncer/Supavisor transaction-mode
// settings of DATABASE_URL.
var queryModes = []struct {
	name string
	mode pgx.QueryExecMode
}{
	{"cache_statement", pgx.QueryExecModeCacheStatement},
	{"exec", pgx.QueryExecModeExec},
	{"simple_protocol", pgx.QueryExecModeSimpleProtocol},
}

// eachMode runs f once per query exec mode, each on a fresh database.
func eachMode(t *testing.T, f func(t *testing.T, db *store.DB, pool *pgxpool.Pool)) {
	t.Helper()
	for _, m := range queryModes {
		t.Run(m.name, func(t *testing.T) {
			if m.mode == pgx.QueryExecModeCacheStatement && dbtest.BehindPooler() {
				t.Skip("named prepared statements do not survive a transaction pooler")
			}
			t.Parallel()
			pool := newPool(t, dbtest.NewDatabase(t), func(c *pgxpool.Config) {
				c.ConnConfig.DefaultQueryExecMode = m.mode
			})
			f(t, store.New(pool), pool)
		})
	}
}

// newStore is a store on a fresh database, in the mode TEST_DATABASE_URL says.
func newStore(t testing.TB) (*store.DB, *pgxpool.Pool) {
	t.Helper()
	pool := newPool(t, dbtest.NewDatabase(t), func(c *pgxpool.Config) { c.MaxConns = 30 })
	return store.New(pool), pool
}

func newPool(tb testing.TB, url string, configure func(*pgxpool.Config)) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		tb.Fatal(err)
	}
	configure(cfg)
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

func testContext(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	tb.Cleanup(cancel)
	return ctx
}

func user(id string) chat.User { return chat.User{ID: id, Name: "Name of " + id} }

func send(t testing.TB, db *store.DB, from, to, body string) chat.Message {
	t.Helper()
	saved, err := db.InsertMessage(context.Background(), user(from), chat.NewMessage{ReceiverID: to, Body: body})
	if err != nil {
		t.Fatalf("send %s→%s: %v", from, to, err)
	}
	return saved.Message
}

func exec(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func queryInt(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func createRoom(t testing.TB, pool *pgxpool.Pool, id string, members ...string) {
	t.Helper()
	exec(t, pool, `INSERT INTO rooms (id, name, created_by) VALUES ($1, $1, 'owner')`, id)
	for _, m := range members {
		exec(t, pool, `INSERT INTO room_members (room_id, user_id) VALUES ($1, $2)`, id, m)
	}
}

// wantCode checks that err is an application error with the code and, when
// field is not empty, naming that field.
func wantCode(t testing.TB, err error, code, field string) {
	t.Helper()
	var e *chat.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want a *chat.Error %s", err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %s (%v), want %s", e.Code, err, code)
	}
	if field != "" {
		if _, ok := e.Fields[field]; !ok {
			t.Fatalf("fields = %v, want %q named", e.Fields, field)
		}
	}
}

// poller collects events of one user the way a client does: cursor to cursor.
type poller struct {
	db     *store.DB
	user   string
	cursor chat.Cursor
	limit  int
	seen   []chat.Event
}

func newPoller(t testing.TB, db *store.DB, userID string, limit int) *poller {
	t.Helper()
	c, err := db.CurrentCursor(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &poller{db: db, user: userID, cursor: c, limit: limit}
}

// poll reads every page available now and returns the new events.
func (p *poller) poll(t testing.TB) []chat.Event {
	t.Helper()
	var got []chat.Event
	for {
		page, err := p.db.Poll(context.Background(), p.user, p.cursor, p.limit)
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		for _, e := range page.Events {
			if !e.Cursor.After(p.cursor) {
				t.Fatalf("event %v not after cursor %v", e.Cursor, p.cursor)
			}
		}
		if page.Next.After(p.cursor) || page.Next == p.cursor {
			p.cursor = page.Next
		} else {
			t.Fatalf("cursor moved back from %v to %v", p.cursor, page.Next)
		}
		got = append(got, page.Events...)
		if !page.More {
			break
		}
	}
	p.seen = append(p.seen, got...)
	return got
}

// xminPatience is how long a test waits for the cluster's oldest open
// transaction to end: a bulk insert in another test binary may hold it.
const xminPatience = 2 * time.Minute

// pollUntil polls until cond holds on everything seen. The snapshot xmin is
// cluster-wide, so a transaction of another test on the same server can delay
// (never reorder) delivery: wait rather than assert on one poll.
func (p *poller) pollUntil(t testing.TB, what string, cond func(seen []chat.Event) bool) {
	t.Helper()
	deadline := time.Now().Add(xminPatience)
	for {
		p.poll(t)
		if cond(p.seen) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("poll: %s: not seen within %v; seen %d events", what, xminPatience, len(p.seen))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// messageIDs returns the message ids of the new-message events, in order.
func messageIDs(t testing.TB, events []chat.Event) []string {
	t.Helper()
	var ids []string
	for _, e := range events {
		if e.Name == "new-message" {
			ids = append(ids, dataString(t, e, "id"))
		}
	}
	return ids
}

func dataString(t testing.TB, e chat.Event, key string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.Data, &m); err != nil {
		t.Fatalf("event %s data: %v", e.Name, err)
	}
	s, _ := m[key].(string)
	return s
}
