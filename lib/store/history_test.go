package store_test

import (
	"slices"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/store"
)

// pageAll pages backwards through a history from the newest message and
// returns the ids in the order received.
func pageAll(t *testing.T, db *store.DB, q chat.HistoryQuery) []string {
	t.Helper()
	var ids []string
	for range 1000 {
		page, err := db.History(testContext(t), q)
		if err != nil {
			t.Fatalf("history before %q: %v", q.Before, err)
		}
		if len(page) > q.Limit {
			t.Fatalf("page of %d, limit %d", len(page), q.Limit)
		}
		for i := 1; i < len(page); i++ {
			a, b := page[i-1], page[i]
			if a.CreatedAt.Before(b.CreatedAt) || a.CreatedAt.Equal(b.CreatedAt) && a.ID < b.ID {
				t.Fatalf("page not newest first: %s then %s", a.ID, b.ID)
			}
		}
		for _, m := range page {
			ids = append(ids, m.ID)
		}
		if len(page) < q.Limit {
			return ids
		}
		q.Before = page[len(page)-1].ID
	}
	t.Fatal("history does not end")
	return nil
}

func TestHistoryPagesBackwardsWithoutGapsOrRepeats(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		// 23 messages in one statement share created_at: the id breaks ties.
		exec(t, pool, `INSERT INTO messages (sender_id, receiver_id, body)
			SELECT CASE WHEN g % 2 = 0 THEN 'alice' ELSE 'bob' END,
			       CASE WHEN g % 2 = 0 THEN 'bob' ELSE 'alice' END, 'same time ' || g
			FROM generate_series(1, 23) g`)
		for i := range 12 {
			send(t, db, "alice", "bob", "later")
			send(t, db, "alice", "carol", "noise") // another chat
			if i%3 == 0 {
				send(t, db, "bob", "alice", "reply")
			}
		}
		createRoom(t, pool, "r1", "alice")
		exec(t, pool, `INSERT INTO messages (sender_id, room_id, body) SELECT 'alice', 'r1', 'room ' || g FROM generate_series(1, 17) g`)

		var want []string
		rows, err := pool.Query(testContext(t), `SELECT id::text FROM messages
			WHERE room_id IS NULL AND ARRAY[sender_id, receiver_id] <@ ARRAY['alice', 'bob']
			ORDER BY created_at DESC, id DESC`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id string
			_ = rows.Scan(&id)
			want = append(want, id)
		}
		if len(want) != 39 {
			t.Fatalf("%d messages in the chat, want 39", len(want))
		}
		for _, limit := range []int{1, 5, 10, 39, 100} {
			// Either side of the chat sees the same history.
			for _, q := range []chat.HistoryQuery{{UserID: "alice", With: "bob", Limit: limit}, {UserID: "bob", With: "alice", Limit: limit}} {
				if got := pageAll(t, db, q); !slices.Equal(got, want) {
					t.Errorf("limit %d as %s: got %d ids, want %d in order", limit, q.UserID, len(got), len(want))
				}
			}
		}
		room := pageAll(t, db, chat.HistoryQuery{UserID: "alice", RoomID: "r1", Limit: 4})
		if len(room) != 17 || len(slices.Compact(slices.Sorted(slices.Values(room)))) != 17 {
			t.Errorf("room history: %d ids, want 17 distinct", len(room))
		}
	})
}

func TestHistoryErrors(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		createRoom(t, pool, "r1", "alice")
		ab := send(t, db, "alice", "bob", "hi")
		ac := send(t, db, "alice", "carol", "hi")
		saved, err := db.InsertMessage(ctx, user("alice"), chat.NewMessage{RoomID: "r1", Body: "in room"})
		if err != nil {
			t.Fatal(err)
		}

		_, err = db.History(ctx, chat.HistoryQuery{UserID: "alice", With: "bob", Before: "not-a-uuid", Limit: 10})
		wantCode(t, err, chat.EINVALID, "before")
		_, err = db.History(ctx, chat.HistoryQuery{UserID: "alice", With: "bob", Before: "6f1c1f8e-1111-4111-8111-111111111111", Limit: 10})
		wantCode(t, err, chat.EINVALID, "before")
		_, err = db.History(ctx, chat.HistoryQuery{UserID: "alice", With: "bob", Before: ac.ID, Limit: 10})
		wantCode(t, err, chat.EINVALID, "before")
		_, err = db.History(ctx, chat.HistoryQuery{UserID: "alice", RoomID: "r1", Before: ab.ID, Limit: 10})
		wantCode(t, err, chat.EINVALID, "before")
		_, err = db.History(ctx, chat.HistoryQuery{UserID: "bob", RoomID: "r1", Limit: 10})
		wantCode(t, err, chat.EFORBIDDEN, "room_id")
		_, err = db.History(ctx, chat.HistoryQuery{UserID: "alice", RoomID: "nope", Limit: 10})
		wantCode(t, err, chat.ENOTFOUND, "room_id")
		_, err = db.History(ctx, chat.HistoryQuery{UserID: "alice", With: "bob", Limit: 0})
		wantCode(t, err, chat.EINVALID, "limit")

		// The oldest message as before: an empty page, not an error.
		page, err := db.History(ctx, chat.HistoryQuery{UserID: "bob", With: "alice", Before: ab.ID, Limit: 10})
		if err != nil || len(page) != 0 {
			t.Errorf("before the oldest: %d messages, %v", len(page), err)
		}
		page, err = db.History(ctx, chat.HistoryQuery{UserID: "alice", RoomID: "r1", Before: saved.Message.ID, Limit: 10})
		if err != nil || len(page) != 0 {
			t.Errorf("room before the oldest: %d messages, %v", len(page), err)
		}
		page, err = db.History(ctx, chat.HistoryQuery{UserID: "bob", With: "alice", Limit: 10})
		if err != nil || len(page) != 1 || page[0].ID != ab.ID || page[0].Channel != ab.Channel {
			t.Errorf("history = %+v, %v; want [%s]", page, err, ab.ID)
		}
	})
}
