package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/store"
)

// benchMessages is the size of the seeded database of BenchmarkPoll and
// BenchmarkHistory.
const benchMessages = 100_000

// seedBench stores benchMessages messages in one statement (the triggers write
// their events): 5% between alice and bob, 10% in room r1 (members alice and
// bob), the rest among 1,000 other pairs, 10 ms apart.
func seedBench(b *testing.B) (*store.DB, *pgxpool.Pool) {
	b.Helper()
	db, pool := newStore(b)
	for _, sql := range []string{
		`INSERT INTO rooms (id, name, created_by) VALUES ('r1', 'bench', 'alice')`,
		`INSERT INTO room_members (room_id, user_id) VALUES ('r1', 'alice'), ('r1', 'bob')`,
		fmt.Sprintf(`INSERT INTO messages (sender_id, receiver_id, room_id, body, created_at)
		SELECT CASE WHEN g %% 20 = 0 THEN 'alice' WHEN g %% 20 = 10 THEN 'bob'
		            WHEN g %% 10 = 1 THEN 'alice' ELSE 'u' || (g %% 1000) END,
		       CASE WHEN g %% 20 = 0 THEN 'bob' WHEN g %% 20 = 10 THEN 'alice'
		            WHEN g %% 10 = 1 THEN NULL ELSE 'v' || (g %% 1000) END,
		       CASE WHEN g %% 10 = 1 THEN 'r1' END,
		       'message ' || g, now() - (%[1]d - g) * interval '10 ms'
		FROM generate_series(1, %[1]d) g`, benchMessages),
		`ANALYZE`,
	} {
		exec(b, pool, sql)
	}
	return db, pool
}

func BenchmarkInsertMessage(b *testing.B) {
	db, pool := newStore(b)
	createRoom(b, pool, "r1", "alice", "bob")
	ctx := context.Background()
	alice := chat.User{ID: "alice", Name: "Alice"}
	for _, bc := range []struct {
		name string
		msg  func(i int) chat.NewMessage
	}{
		{"chat", func(int) chat.NewMessage { return chat.NewMessage{ReceiverID: "bob", Body: "hello"} }},
		{"chat_client_id", func(i int) chat.NewMessage {
			return chat.NewMessage{ReceiverID: "bob", Body: "hello", ClientID: fmt.Sprint("c-", i)}
		}},
		{"chat_repeat_client_id", func(int) chat.NewMessage {
			return chat.NewMessage{ReceiverID: "bob", Body: "hello", ClientID: "same"}
		}},
		{"room", func(int) chat.NewMessage { return chat.NewMessage{RoomID: "r1", Body: "hello"} }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := db.InsertMessage(ctx, alice, bc.msg(i)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkPoll(b *testing.B) {
	db, pool := seedBench(b)
	ctx := context.Background()
	head, err := db.CurrentCursor(ctx)
	if err != nil {
		b.Fatal(err)
	}
	// 150 of bob's events before the end of the log: a client that missed a
	// few minutes.
	var xid string
	var seq int64
	if err := pool.QueryRow(ctx, `SELECT xid::text, id - 1 FROM events
		WHERE 'bob' = ANY (recipients) OR channel = 'private-room-r1'
		ORDER BY xid DESC, id DESC OFFSET 150 LIMIT 1`).Scan(&xid, &seq); err != nil {
		b.Fatal(err)
	}
	behind, err := chat.ParseCursor(xid + "_" + fmt.Sprint(seq))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		user   string
		cursor chat.Cursor
		want   int
	}{
		// The steady state: a client every 5 s, nothing new.
		{"idle", "bob", head, 0},
		// A page of 100 of bob's events (chat, notifications and room).
		{"behind_100", "bob", behind, 100},
		// Worst case: a cursor from before the whole log, for a user with no
		// events in it; the page is empty and the cursor jumps to the head.
		{"far_behind_nothing_relevant", "nobody", chat.Cursor{XID: 1}, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				page, err := db.Poll(ctx, bc.user, bc.cursor, 100)
				if err != nil {
					b.Fatal(err)
				}
				if len(page.Events) != bc.want {
					b.Fatalf("%d events, want %d", len(page.Events), bc.want)
				}
			}
		})
	}
}

func BenchmarkHistory(b *testing.B) {
	db, pool := seedBench(b)
	ctx := context.Background()
	var middle, roomMiddle string
	if err := pool.QueryRow(ctx, `SELECT id::text FROM messages WHERE sender_id IN ('alice', 'bob') AND receiver_id IN ('alice', 'bob')
		ORDER BY created_at DESC, id DESC OFFSET 2500 LIMIT 1`).Scan(&middle); err != nil {
		b.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT id::text FROM messages WHERE room_id = 'r1'
		ORDER BY created_at DESC, id DESC OFFSET 5000 LIMIT 1`).Scan(&roomMiddle); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		q    chat.HistoryQuery
	}{
		{"chat_newest", chat.HistoryQuery{UserID: "bob", With: "alice", Limit: 51}},
		{"chat_deep", chat.HistoryQuery{UserID: "bob", With: "alice", Before: middle, Limit: 51}},
		{"room_newest", chat.HistoryQuery{UserID: "bob", RoomID: "r1", Limit: 51}},
		{"room_deep", chat.HistoryQuery{UserID: "bob", RoomID: "r1", Before: roomMiddle, Limit: 51}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				msgs, err := db.History(ctx, bc.q)
				if err != nil {
					b.Fatal(err)
				}
				if len(msgs) != bc.q.Limit {
					b.Fatalf("%d messages, want %d", len(msgs), bc.q.Limit)
				}
			}
		})
	}
}
