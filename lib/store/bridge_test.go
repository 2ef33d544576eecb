package store_test

import (
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/store"
)

// The rows below are written with plain SQL, as a legacy Supabase client
// would; the triggers wrote their events, and ClaimRowEvents finds them.

func TestClaimRowEventsOfAMessageWrittenByAnotherWriter(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		var id string
		if err := pool.QueryRow(ctx, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('alice', 'bob', 'legacy') RETURNING id::text`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		send(t, db, "alice", "bob", "another message, not this row's")
		var rec recorder
		n, err := db.ClaimRowEvents(ctx, chat.RowEvents{MessageID: id}, rec.deliver)
		if err != nil || n != 2 {
			t.Fatalf("claim = %d, %v; want 2 (new-message and message-notification)", n, err)
		}
		if got, want := rec.events[0].Name+","+rec.events[1].Name, "new-message,message-notification"; got != want {
			t.Errorf("events = %s, want %s", got, want)
		}
		if n, err := db.ClaimRowEvents(ctx, chat.RowEvents{MessageID: id}, rec.deliver); err != nil || n != 0 {
			t.Fatalf("the same row again = %d, %v; want 0", n, err)
		}

		exec(t, pool, `UPDATE messages SET read_at = now() WHERE id = $1::uuid`, id)
		n, err = db.ClaimRowEvents(ctx, chat.RowEvents{MessageID: id}, rec.deliver)
		if err != nil || n != 1 {
			t.Fatalf("claim after read = %d, %v; want 1", n, err)
		}
		if got, want := rec.events[2].Name, "message-read"; got != want {
			t.Errorf("event = %s, want %s", got, want)
		}
		// Left for the outbox: the other message's two events, and bob's
		// conversation-read (it names a conversation, not this row).
		if got, want := queryInt(t, pool, `SELECT count(*) FROM events_pending`), 3; got != want {
			t.Errorf("unpublished = %d, want %d (the other message's, untouched, and conversation-read)", got, want)
		}
	})
}

func TestClaimRowEventsOfARoomMemberJoiningAndLeaving(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	createRoom(t, pool, "room-1", "alice")
	exec(t, pool, `INSERT INTO room_members (room_id, user_id) VALUES ('room-1', 'bob|1')`)
	var rec recorder
	n, err := db.ClaimRowEvents(ctx, chat.RowEvents{RoomID: "room-1", UserID: "bob|1"}, rec.deliver)
	if err != nil || n != 1 {
		t.Fatalf("claim join = %d, %v; want 1", n, err)
	}
	if got, want := rec.events[0].Name+" "+rec.events[0].Channel, "user-joined private-room-room=2D1"; got != want {
		t.Errorf("event = %s, want %s", got, want)
	}
	exec(t, pool, `DELETE FROM room_members WHERE room_id = 'room-1' AND user_id = 'bob|1'`)
	n, err = db.ClaimRowEvents(ctx, chat.RowEvents{RoomID: "room-1", UserID: "bob|1", Left: true}, rec.deliver)
	if err != nil || n != 1 {
		t.Fatalf("claim leave = %d, %v; want 1", n, err)
	}
	if got, want := rec.events[1].Name, "user-left"; got != want {
		t.Errorf("event = %s, want %s", got, want)
	}
	// alice's own join is another member's: untouched.
	if got, want := queryInt(t, pool, `SELECT count(*) FROM events_pending`), 1; got != want {
		t.Errorf("unpublished = %d, want %d", got, want)
	}
}

func TestConcurrentWebhooksOfOneRowPublishItsEventsOnce(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	var id string
	if err := pool.QueryRow(ctx, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('alice', 'bob', 'x') RETURNING id::text`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	var (
		rec recorder
		wg  sync.WaitGroup
		mu  sync.Mutex
		sum int
	)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := db.ClaimRowEvents(ctx, chat.RowEvents{MessageID: id}, rec.deliver)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			sum += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if sum != 2 || len(rec.events) != 2 {
		t.Errorf("published %d (delivered %d), want 2 in all", sum, len(rec.events))
	}
}
