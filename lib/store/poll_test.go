package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/store"
)

func TestPollWaitsForOlderOpenTransactions(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		p := newPoller(t, db, "bob", 100)

		// A writes first (so has the older transaction id) and stays open.
		txA, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer txA.Rollback(ctx)
		var idA, idB string
		if err := txA.QueryRow(ctx, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('alice', 'bob', 'A') RETURNING id::text`).Scan(&idA); err != nil {
			t.Fatal(err)
		}
		// B commits while A is open: a legacy writer, plain SQL.
		if err := pool.QueryRow(ctx, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('carol', 'bob', 'B') RETURNING id::text`).Scan(&idB); err != nil {
			t.Fatal(err)
		}
		if got := p.poll(t); len(got) != 0 {
			t.Fatalf("poll while A is open returned %d events (%v): B must wait for A", len(got), messageIDs(t, got))
		}
		if err := txA.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		p.pollUntil(t, "A and B", func(seen []chat.Event) bool { return len(messageIDs(t, seen)) >= 2 })
		p.poll(t)
		if got, want := messageIDs(t, p.seen), []string{idA, idB}; !slices.Equal(got, want) {
			t.Errorf("new-message ids = %v, want A then B %v", got, want)
		}
		// message-notification to bob too, each event once, in cursor order.
		if got := len(p.seen); got != 4 {
			t.Errorf("%d events, want 4 (two messages, two notifications)", got)
		}
		checkCursorOrder(t, p.seen)
	})
}

func checkCursorOrder(t testing.TB, events []chat.Event) {
	t.Helper()
	for i := 1; i < len(events); i++ {
		if !events[i].Cursor.After(events[i-1].Cursor) {
			t.Fatalf("event %d cursor %v not after %v", i, events[i].Cursor, events[i-1].Cursor)
		}
	}
}

func TestPollOnlyChannelsTheUserMaySubscribeTo(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		createRoom(t, pool, "r1", "alice", "bob")
		createRoom(t, pool, "r2", "alice")
		bob := newPoller(t, db, "bob", 2)
		carol := newPoller(t, db, "carol", 2)

		ab := send(t, db, "alice", "bob", "for bob")
		ac := send(t, db, "alice", "carol", "for carol")
		r1, err := db.InsertMessage(ctx, user("alice"), chat.NewMessage{RoomID: "r1", Body: "room 1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.InsertMessage(ctx, user("alice"), chat.NewMessage{RoomID: "r2", Body: "room 2"}); err != nil {
			t.Fatal(err)
		}
		marker := send(t, db, "zed", "bob", "last")

		bob.pollUntil(t, "marker", func(seen []chat.Event) bool { return slices.Contains(messageIDs(t, seen), marker.ID) })
		if got, want := messageIDs(t, bob.seen), []string{ab.ID, r1.Message.ID, marker.ID}; !slices.Equal(got, want) {
			t.Errorf("bob's messages = %v, want %v", got, want)
		}
		for _, e := range bob.seen {
			switch e.Channel {
			case ab.Channel, chat.RoomChannel("r1"), chat.UserChannel("bob"), marker.Channel:
			default:
				t.Errorf("bob got an event on %s", e.Channel)
			}
		}
		carol.pollUntil(t, "her message", func(seen []chat.Event) bool { return len(seen) >= 2 })
		carol.poll(t)
		if got, want := messageIDs(t, carol.seen), []string{ac.ID}; !slices.Equal(got, want) {
			t.Errorf("carol's messages = %v, want %v", got, want)
		}

		// Leaving a room stops its events.
		exec(t, pool, `DELETE FROM room_members WHERE room_id = 'r1' AND user_id = 'bob'`)
		if _, err := db.InsertMessage(ctx, user("alice"), chat.NewMessage{RoomID: "r1", Body: "after bob left"}); err != nil {
			t.Fatal(err)
		}
		marker = send(t, db, "zed", "bob", "last again")
		bob.pollUntil(t, "second marker", func(seen []chat.Event) bool { return slices.Contains(messageIDs(t, seen), marker.ID) })
		if n := len(messageIDs(t, bob.seen)); n != 4 {
			t.Errorf("bob saw %d messages, want 4 (none from r1 after leaving)", n)
		}
	})
}

func TestPollCursorSkipsIrrelevantRows(t *testing.T) {
	db, _ := newStore(t)
	ctx := testContext(t)
	start, err := db.CurrentCursor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		send(t, db, "x", "y", "not for bob")
	}
	// Nothing for bob, but once those transactions are final the cursor moves
	// past them.
	deadline := time.Now().Add(xminPatience)
	for {
		page, err := db.Poll(ctx, "bob", start, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) != 0 || page.More {
			t.Fatalf("bob got %d events", len(page.Events))
		}
		cur, err := db.CurrentCursor(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if page.Next.After(start) && !page.Next.After(cur) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cursor stayed at %v (start %v)", page.Next, start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, err = db.Poll(ctx, "bob", start, 0)
	wantCode(t, err, chat.EINVALID, "limit")
}

// TestPollNeverSkipsUnderConcurrentSenders is the scenario of the issue: 50
// senders at once, half through InsertMessage and half as legacy writers whose
// transactions sleep a random time before committing (so commits land out of
// order), while a client polls throughout with small pages. The poller must
// end with every message exactly once.
func TestPollNeverSkipsUnderConcurrentSenders(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	const senders = 50
	p := newPoller(t, db, "bob", 7)

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		sent []string
		done atomic.Bool
		errs = make(chan error, senders)
	)
	pollerDone := make(chan []chat.Event)
	go func() {
		// Polls until the senders are done; the test goroutine then finishes.
		var got []chat.Event
		for !done.Load() {
			page, err := db.Poll(ctx, "bob", p.cursor, p.limit)
			if err != nil {
				errs <- err
				break
			}
			got = append(got, page.Events...)
			p.cursor = page.Next
			if !page.More {
				time.Sleep(time.Millisecond)
			}
		}
		pollerDone <- got
	}()

	for i := range senders {
		wg.Go(func() {
			var id string
			var err error
			if i%2 == 0 {
				var saved chat.SavedMessage
				saved, err = db.InsertMessage(ctx, user(fmt.Sprintf("s%d", i)), chat.NewMessage{ReceiverID: "bob", Body: "app", ClientID: fmt.Sprint("c", i)})
				id = saved.Message.ID
			} else {
				id, err = slowLegacyInsert(ctx, pool, fmt.Sprintf("s%d", i), rand.Float64()*0.05)
			}
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			sent = append(sent, id)
			mu.Unlock()
		})
	}
	wg.Wait()
	done.Store(true)
	p.seen = <-pollerDone
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	p.pollUntil(t, "every message", func(seen []chat.Event) bool { return len(messageIDs(t, seen)) >= senders })
	p.poll(t)
	got := messageIDs(t, p.seen)
	if len(got) != senders {
		t.Errorf("poller saw %d new-message events, want %d", len(got), senders)
	}
	slices.Sort(got)
	slices.Sort(sent)
	if !slices.Equal(got, sent) {
		t.Errorf("poller saw\n%v\nsent\n%v", got, sent)
	}
	if n := len(slices.Compact(got)); n != len(got) {
		t.Errorf("%d duplicates", len(got)-n)
	}
	checkCursorOrder(t, p.seen)
	// Each message also notified bob once.
	if n := len(p.seen); n != 2*senders {
		t.Errorf("%d events, want %d", n, 2*senders)
	}
}

// slowLegacyInsert inserts like a legacy client would, holding its
// transaction open for a while after the insert.
func slowLegacyInsert(ctx context.Context, pool *pgxpool.Pool, sender string, sleepSeconds float64) (string, error) {
	var id string
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ($1, 'bob', 'legacy') RETURNING id::text`, sender).Scan(&id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT pg_sleep($1::float8)`, sleepSeconds)
		return err
	})
	return id, err
}
