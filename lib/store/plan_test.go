package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/dbtest"
)

// TestQueriesUseTheirIndexes checks the plans of the hot queries on a seeded,
// analyzed database: history pages are one range scan of their index with
// the keyset condition in the Index Cond (no Sort, no OFFSET-like scan from
// the newest row), poll range-scans events_log, and a conversation list page
// is one range scan of conversations_recent.
func TestQueriesUseTheirIndexes(t *testing.T) {
	pool, _ := dbtest.NewPool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, sql := range []string{
		// A user with 3,000 conversations, one message each.
		`INSERT INTO users (id, name) SELECT 'w' || g, 'W' FROM generate_series(1, 3000) g`,
		`INSERT INTO messages (sender_id, receiver_id, body, created_at)
		 SELECT 'w' || g, 'hub', 'm', now() - g * interval '1 second' FROM generate_series(1, 3000) g`,
		`INSERT INTO rooms (id, name, created_by) SELECT 'r' || g, 'room', 'u0' FROM generate_series(0, 49) g`,
		`INSERT INTO room_members (room_id, user_id) SELECT 'r' || g, 'u' || g FROM generate_series(0, 49) g`,
		`INSERT INTO messages (sender_id, receiver_id, body, created_at)
		 SELECT 'u' || (g % 40), 'v' || (g % 40), 'm', now() - g * interval '1 second'
		 FROM generate_series(1, 4000) g`,
		`INSERT INTO messages (sender_id, room_id, body, created_at)
		 SELECT 'u' || (g % 50), CASE WHEN g % 2 = 0 THEN 'r7' ELSE 'r' || (g % 50) END, 'm', now() - g * interval '1 second'
		 FROM generate_series(1, 20000) g`,
		// The planner estimates poll's "xid < snapshot xmin" with the
		// cluster's xmin at planning time, which any session's open
		// transaction (in any database) holds back: one whose xid falls
		// between two of the inserts above makes most of the log look not
		// final, and the estimate then favours a bitmap scan and a sort.
		// Move the seeded log, order and gaps kept, below this snapshot's
		// xmin, which no later snapshot's xmin is below: every event is
		// final whatever other sessions do, as in a log written long ago.
		`UPDATE events SET xid = (xid::text::numeric
		   - (SELECT max(xid)::text::numeric FROM events)
		   + pg_snapshot_xmin(pg_current_snapshot())::text::numeric - 1)::text::xid8`,
		`VACUUM ANALYZE`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	var (
		chatBefore, roomBefore, xid string
		listBefore                  time.Time
	)
	if err := pool.QueryRow(ctx, `SELECT updated_at FROM conversations WHERE user_id = 'hub' ORDER BY updated_at DESC OFFSET 100 LIMIT 1`).Scan(&listBefore); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT id::text FROM messages WHERE sender_id = 'u7' AND receiver_id = 'v7' ORDER BY created_at DESC OFFSET 30 LIMIT 1`).Scan(&chatBefore); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT id::text FROM messages WHERE room_id = 'r7' ORDER BY created_at DESC OFFSET 30 LIMIT 1`).Scan(&roomBefore); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT (max(xid)::text::numeric - 1)::text FROM events`).Scan(&xid); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		sql   string
		args  []any
		want  []string
		never []string
	}{
		{"room page", roomPageSQL, []any{"r7", 50},
			[]string{"Index Scan using messages_room_history"}, []string{"Sort", "Seq Scan"}},
		{"chat page", chatPageSQL, []any{"v7", "u7", 50},
			[]string{"Index Scan using messages_chat_history"}, []string{"Sort", "Seq Scan"}},
		{"chat page before", chatPageBeforeSQL, []any{"v7", "u7", chatBefore, 50},
			[]string{"Index Scan using messages_chat_history", "Index Cond: ((LEAST(sender_id, receiver_id) = ", "(ROW(created_at, id) < ROW("},
			[]string{"Sort", "Seq Scan"}},
		{"room page before", roomPageBeforeSQL, []any{"r7", roomBefore, 50},
			[]string{"Index Scan using messages_room_history", "(ROW(created_at, id) < ROW("},
			[]string{"Sort", "Seq Scan"}},
		{"conversations", conversationsSQL, []any{"hub", 31},
			// rooms holds 50 rows here: a Seq Scan of it is the planner's
			// fair choice, and one lookup per listed room all the same.
			[]string{"Index Scan using conversations_recent", "Limit", "Index Scan using users_pkey", "Index Scan using messages_pkey"},
			[]string{"Sort", "Seq Scan on conversations", "Seq Scan on users", "Seq Scan on messages", "Hash"}},
		{"conversations before", conversationsBeforeSQL, []any{"hub", 31, listBefore, "chat:w100"},
			[]string{"Index Scan using conversations_recent", "Index Cond: ((user_id = 'hub'::text) AND (ROW(updated_at, id) < ROW("},
			[]string{"Sort", "Seq Scan on conversations", "Seq Scan on users", "Seq Scan on messages", "Hash"}},
		{"poll", pollSQL, []any{xid, int64(0), "u7", 101, defaultPollScanBudget},
			[]string{"Index Scan using events_log", "Index Cond: ((ROW(xid, id) > ROW("},
			// The one sort orders the page (at most limit+1 rows).
			[]string{"Sort Key: ev.", "Seq Scan on events"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := explain(t, ctx, pool, tc.sql, tc.args...)
			for _, w := range tc.want {
				if !strings.Contains(plan, w) {
					t.Errorf("plan lacks %q:\n%s", w, plan)
				}
			}
			for _, n := range tc.never {
				if strings.Contains(plan, n) {
					t.Errorf("plan has %q:\n%s", n, plan)
				}
			}
			t.Logf("%s:\n%s", tc.name, plan)
		})
	}
}

// The stale probe (staleExistsSQL) once joined events_pending to events,
// and with statistics from when many events were pending (a backlog, or the
// seed) Postgres merge-joined them: it walked events_pkey from the oldest
// event of the log up to the first pending one, 28–69 ms per probe after a
// minute of chatbench at 1,000/s. Every query that starts from the pending
// rows (the probes, the claims, the relay's window) must look up only the
// events of the pending rows it reads, however stale the statistics.
func TestPendingQueriesLookUpOnlyThePendingEvents(t *testing.T) {
	pool, _ := dbtest.NewPool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, sql := range []string{
		`INSERT INTO messages (sender_id, receiver_id, body) SELECT 'u' || (g % 100), 'v' || (g % 100), 'm' FROM generate_series(1, 20000) g`,
		`VACUUM ANALYZE`,
		// Everything but the newest events was published since.
		`DELETE FROM events_pending WHERE event_id < (SELECT max(event_id) - 10 FROM events_pending)`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	grace := int64(10 * time.Second / time.Microsecond)
	for _, tc := range []struct {
		name string
		sql  string
		args []any
	}{
		{"stale probe", staleExistsSQL, []any{grace}},
		{"relay: oldest pending", oldestPendingSQL, nil},
		{"relay: pending window", pendingWindowSQL, []any{grace, 500}},
		{"relay: lock pending", lockPendingSQL, []any{[]int64{19990, 19995, 20000}}},
		{"stale claim", claimStaleSQL, []any{grace, 20}},
		{"claim of a row's events", claimRowSQL, []any{"00000000-0000-4000-8000-000000000001", nil, nil, nil, maxRowEvents}},
	} {
		plan := explain(t, ctx, pool, tc.sql, tc.args...)
		for _, w := range []string{"using events_pending_pkey", "Index Scan using events_pkey", "= p.event_id)"} {
			if !strings.Contains(plan, w) {
				t.Errorf("%s: plan lacks %q:\n%s", tc.name, w, plan)
			}
		}
		for _, n := range []string{"Merge", "Hash", "Seq Scan", "Sort"} {
			if strings.Contains(plan, n) {
				t.Errorf("%s: plan has %q:\n%s", tc.name, n, plan)
			}
		}
		t.Logf("%s:\n%s", tc.name, plan)
	}
}

func explain(t *testing.T, ctx context.Context, pool *pgxpool.Pool, sql string, args ...any) string {
	t.Helper()
	rows, err := pool.Query(ctx, "EXPLAIN (COSTS OFF) "+sql, args...)
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
