package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/migrate"
	"github.com/chatwire/chatwire/lib/store"
)

func sendWrite(t testing.TB, db *store.DB, w chat.SendWrite) chat.SavedMessage {
	t.Helper()
	saved, err := db.SendMessage(testContext(t), w)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	return saved
}

func seqs(events []chat.Event) []int64 {
	out := make([]int64, len(events))
	for i, e := range events {
		out[i] = e.Seq
	}
	return out
}

// The bucket, the sender's name, the message and its events are one
// transaction: every row the send wrote carries the same transaction id.
func TestSendMessageWritesBucketMessageAndEventsInOneTransaction(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		limit := chat.RateLimit{Count: 2, Per: 24 * time.Hour} // no run outlasts the refill
		w := chat.SendWrite{Sender: user("alice"), Message: chat.NewMessage{ReceiverID: "bob", Body: "one"}, RateLimit: limit}
		saved := sendWrite(t, db, w)
		if !saved.Created || saved.RetryAfter != 0 || len(saved.Events) != 2 {
			t.Fatalf("first send = %+v", saved)
		}
		xid := saved.Events[0].Cursor.XID
		for _, q := range []string{
			`SELECT count(*) FROM send_rate_limit WHERE user_id = 'alice' AND xmin::text::bigint = $1`,
			`SELECT count(*) FROM users WHERE id = 'alice' AND xmin::text::bigint = $1`,
			`SELECT count(*) FROM messages WHERE sender_id = 'alice' AND xmin::text::bigint = $1`,
			`SELECT count(*) FROM events_pending p JOIN events e ON e.id = p.event_id WHERE p.xmin::text::bigint = $1 AND e.xid::text::bigint = $1`,
		} {
			// xmin is the 32-bit transaction id; the test database is young enough
			// that it equals the 64-bit xid8 of the events.
			if got := queryInt(t, pool, q, int64(xid)); got < 1 {
				t.Errorf("%s: no row of transaction %d", q, xid)
			}
		}
		if got, want := queryInt(t, pool, `SELECT count(*) FROM events_pending`), 2; got != want {
			t.Errorf("pending = %d, want %d", got, want)
		}

		sendWrite(t, db, w)
		// The bucket is empty: nothing is stored, not even a new name.
		refused := sendWrite(t, db, chat.SendWrite{Sender: chat.User{ID: "alice", Name: "Renamed"},
			Message: chat.NewMessage{ReceiverID: "bob", Body: "three"}, RateLimit: limit})
		if refused.Created || refused.RetryAfter <= 0 || refused.RetryAfter > limit.Per/2 || len(refused.Events) != 0 {
			t.Errorf("third send = %+v, want refused with a wait of at most half a day", refused)
		}
		if got, want := queryInt(t, pool, `SELECT count(*) FROM messages`), 2; got != want {
			t.Errorf("messages = %d, want %d", got, want)
		}
		if got, want := queryInt(t, pool, `SELECT count(*) FROM users WHERE name = 'Renamed'`), 0; got != want {
			t.Errorf("a refused send recorded the name")
		}
		// Another user's bucket is their own.
		if other := sendWrite(t, db, chat.SendWrite{Sender: user("carol"), Message: chat.NewMessage{ReceiverID: "bob", Body: "c"}, RateLimit: limit}); !other.Created {
			t.Errorf("carol's send = %+v", other)
		}
	})
}

// A send records the acknowledgements it carries in its own transaction, and
// skips a pending row a redelivery holds instead of waiting for it.
func TestSendMessageCarriesAcknowledgements(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		first := sendWrite(t, db, chat.SendWrite{Sender: user("alice"), Message: chat.NewMessage{ReceiverID: "bob", Body: "one"}})
		second := sendWrite(t, db, chat.SendWrite{Sender: user("alice"), Message: chat.NewMessage{ReceiverID: "bob", Body: "two"},
			Published: seqs(first.Events)})
		pending := func() []int64 {
			t.Helper()
			rows, err := pool.Query(ctx, `SELECT event_id FROM events_pending ORDER BY event_id`)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			return ids
		}
		if got, want := pending(), seqs(second.Events); !equalInts(got, want) {
			t.Fatalf("pending = %v, want the second message's %v", got, want)
		}

		// A redelivery holds the first of the second message's rows.
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback(ctx) }()
		held := second.Events[0].Seq
		if _, err := tx.Exec(ctx, `SELECT 1 FROM events_pending WHERE event_id = $1 FOR UPDATE`, held); err != nil {
			t.Fatal(err)
		}
		// Waiting for the lock would last until the rollback below, past this deadline.
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		third, err := db.SendMessage(sctx, chat.SendWrite{Sender: user("alice"), Message: chat.NewMessage{ReceiverID: "bob", Body: "three"},
			Published: seqs(second.Events)})
		if err != nil {
			t.Fatalf("send carrying a held acknowledgement: %v", err)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		if got, want := pending(), append([]int64{held}, seqs(third.Events)...); !equalInts(got, want) {
			t.Errorf("pending = %v, want the held row and the third message's, %v", got, want)
		}
		// MarkPublished alone does the same.
		if err := db.MarkPublished(ctx, append([]int64{held}, seqs(third.Events)...)); err != nil {
			t.Fatal(err)
		}
		if got := pending(); len(got) != 0 {
			t.Errorf("pending after MarkPublished = %v, want none", got)
		}
	})
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// chatwire_time is STABLE from version 7 so that Postgres inlines it; its
// output is the same, in any session time zone.
func TestChatwireTimeIsInlinedAndUnchanged(t *testing.T) {
	_, pool := newStore(t)
	ctx := testContext(t)
	var plan strings.Builder
	rows, err := pool.Query(ctx, `EXPLAIN VERBOSE SELECT chatwire_time(now())`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if p := plan.String(); strings.Contains(p, "chatwire_time") || !strings.Contains(p, "to_char") {
		t.Errorf("chatwire_time is not inlined:\n%s", p)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	for _, zone := range []string{"UTC", "Pacific/Chatham"} {
		if _, err := conn.Exec(ctx, `SET TIME ZONE '`+zone+`'`); err != nil {
			t.Fatal(err)
		}
		for in, want := range map[string]string{
			"2026-01-02 03:04:05.678+00":    "2026-01-02T03:04:05.678Z",
			"2026-11-30 23:59:59.9999+00":   "2026-11-30T23:59:59.999Z", // truncated, as before
			"1999-12-31 20:00:00-05":        "2000-01-01T01:00:00.000Z",
			"2026-06-01 12:00:00.000001+02": "2026-06-01T10:00:00.000Z",
		} {
			var got string
			if err := conn.QueryRow(ctx, `SELECT chatwire_time($1::timestamptz)`, in).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("zone %s: chatwire_time(%s) = %s, want %s", zone, in, got, want)
			}
		}
		var null *string
		if err := conn.QueryRow(ctx, `SELECT chatwire_time(NULL)`).Scan(&null); err != nil || null != nil {
			t.Errorf("chatwire_time(NULL) = %v, %v; want NULL", null, err)
		}
	}
}

// A database of version 6 with data in it: after the upgrade its unpublished
// events are pending and its published ones are not, old and new events are
// relayed and polled alike, and member events keep their de-duplication.
func TestUpgradeFromVersion6KeepsWhatIsUnpublished(t *testing.T) {
	dbURL := dbtest.NewEmptyDatabase(t)
	ctx := testContext(t)
	if err := migrate.To(ctx, dbURL, 6); err != nil {
		t.Fatal(err)
	}
	pool := newPool(t, dbURL, func(*pgxpool.Config) {})
	exec(t, pool, `INSERT INTO users (id, name) VALUES ('alice', 'Alice')`)
	exec(t, pool, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('alice', 'bob', 'published')`)
	exec(t, pool, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('alice', 'bob', 'lost')`)
	createRoom(t, pool, "r1", "alice")
	exec(t, pool, `UPDATE events SET published_at = now()
WHERE data ->> 'body' = 'published' OR data ->> 'message_id' = (SELECT id::text FROM messages WHERE body = 'published')`)
	var lostID string
	if err := pool.QueryRow(ctx, `SELECT id::text FROM messages WHERE body = 'lost'`).Scan(&lostID); err != nil {
		t.Fatal(err)
	}
	unpublished := queryInt(t, pool, `SELECT count(*) FROM events WHERE published_at IS NULL`)
	if unpublished != 3 {
		t.Fatalf("before the upgrade: %d unpublished, want 3 (lost's two and the join)", unpublished)
	}

	if err := migrate.Up(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, pool, `SELECT count(*) FROM events_pending p JOIN events e ON e.id = p.event_id`); got != unpublished {
		t.Errorf("pending after the upgrade = %d, want %d", got, unpublished)
	}
	if got := queryInt(t, pool, `SELECT count(*) FROM information_schema.columns WHERE table_name = 'events' AND column_name = 'published_at'`); got != 0 {
		t.Error("events.published_at is still there")
	}

	db := store.New(pool)
	var rec recorder
	// An old message's events, written with dedupe keys, are found by id.
	if n, err := db.ClaimRowEvents(ctx, chat.RowEvents{MessageID: lostID}, rec.deliver); err != nil || n != 2 {
		t.Fatalf("relay of the old message = %d, %v; want 2", n, err)
	}
	// A new message: two events without dedupe keys, both pending.
	saved := sendWrite(t, db, chat.SendWrite{Sender: user("alice"), Message: chat.NewMessage{ReceiverID: "bob", Body: "new"}})
	if got := queryInt(t, pool, `SELECT count(*) FROM events WHERE dedupe_key IS NULL AND xid::text::bigint = $1`,
		int64(saved.Events[0].Cursor.XID)); got != 2 {
		t.Errorf("new message events without dedupe key = %d, want 2", got)
	}
	if got, want := queryInt(t, pool, `SELECT count(*) FROM events_pending`), 3; got != want {
		t.Errorf("pending = %d, want %d (the join and the new message's two)", got, want)
	}
	// Joins still write one user-joined event per member and time.
	exec(t, pool, `INSERT INTO room_members (room_id, user_id) VALUES ('r1', 'bob')`)
	if got := queryInt(t, pool, `SELECT count(*) FROM events WHERE event = 'user-joined'`); got != 2 {
		t.Errorf("user-joined events = %d, want 2", got)
	}
	if n, err := db.ClaimRowEvents(ctx, chat.RowEvents{RoomID: "r1", UserID: "alice"}, rec.deliver); err != nil || n != 1 {
		t.Errorf("relay of the old join = %d, %v; want 1", n, err)
	}
	// bob polls everything addressed to him, old and new, in order.
	bodies := func(seen []chat.Event) string {
		var out []string
		for _, e := range seen {
			if e.Name == "new-message" {
				out = append(out, dataString(t, e, "body"))
			}
		}
		return strings.Join(out, ",")
	}
	p := &poller{db: db, user: "bob", limit: 100}
	p.pollUntil(t, "the three messages", func(seen []chat.Event) bool { return strings.Count(bodies(seen), ",") >= 2 })
	if got, want := bodies(p.seen), "published,lost,new"; got != want {
		t.Errorf("bob polls %s, want %s", got, want)
	}
}
