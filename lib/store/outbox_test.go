package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/store"
)

// recorder is a DeliverFunc that remembers what it was given.
type recorder struct {
	mu     sync.Mutex
	events []chat.Event
	fail   error
}

func (r *recorder) deliver(_ context.Context, events []chat.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.events = append(r.events, events...)
	return nil
}

func TestClaimStaleEventsDeliversOldUnpublishedEventsOnce(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		send(t, db, "alice", "bob", "one")
		send(t, db, "alice", "bob", "two")
		var rec recorder
		if n, err := db.ClaimStaleEvents(ctx, time.Hour, 10, rec.deliver); err != nil || n != 0 {
			t.Fatalf("claim events an hour old = %d, %v; want 0 (they are fresh)", n, err)
		}
		exec(t, pool, `UPDATE events SET created_at = created_at - interval '1 minute'`)

		n, err := db.ClaimStaleEvents(ctx, 10*time.Second, 3, rec.deliver)
		if err != nil || n != 3 {
			t.Fatalf("claim = %d, %v; want 3 (the limit)", n, err)
		}
		for i := 1; i < len(rec.events); i++ {
			if rec.events[i].Seq <= rec.events[i-1].Seq {
				t.Errorf("events not oldest first: %d after %d", rec.events[i].Seq, rec.events[i-1].Seq)
			}
		}
		if n, err := db.ClaimStaleEvents(ctx, 10*time.Second, 10, rec.deliver); err != nil || n != 1 {
			t.Fatalf("second claim = %d, %v; want the 1 left", n, err)
		}
		if n, err := db.ClaimStaleEvents(ctx, 10*time.Second, 10, rec.deliver); err != nil || n != 0 {
			t.Fatalf("third claim = %d, %v; want 0", n, err)
		}
		if got, want := queryInt(t, pool, `SELECT count(*) FROM events_pending`), 0; got != want {
			t.Errorf("unpublished = %d, want %d", got, want)
		}
		if got, want := len(rec.events), 4; got != want {
			t.Errorf("delivered %d events, want %d", got, want)
		}
	})
}

// A pending row whose event was deleted by hand counts as stale: the stale
// step's claim drops it instead of leaving it at the head of the queue.
func TestClaimStaleEventsDropsPendingRowsWhoseEventIsGone(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		send(t, db, "alice", "bob", "one")
		exec(t, pool, `DELETE FROM events`) // by hand: the pending rows stay
		var rec recorder
		if n, err := db.ClaimStaleEvents(ctx, 10*time.Second, 10, rec.deliver); err != nil || n != 0 {
			t.Fatalf("claim = %d, %v; want 0 events delivered", n, err)
		}
		if got := queryInt(t, pool, `SELECT count(*) FROM events_pending`); got != 0 {
			t.Errorf("%d pending rows without an event left, want 0", got)
		}
	})
}

func TestClaimStaleEventsLeavesEventsUnpublishedWhenDeliveryFails(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	send(t, db, "alice", "bob", "one")
	boom := errors.New("pusher down")
	rec := recorder{fail: boom}
	n, err := db.ClaimStaleEvents(ctx, 0, 10, rec.deliver)
	if !errors.Is(err, boom) || n != 0 {
		t.Fatalf("claim = %d, %v; want 0 and the delivery error", n, err)
	}
	if got, want := queryInt(t, pool, `SELECT count(*) FROM events_pending`), 2; got != want {
		t.Errorf("unpublished = %d, want %d", got, want)
	}
	if got, err := db.CountUnpublished(ctx); err != nil || got != 2 {
		t.Errorf("CountUnpublished = %d, %v; want 2", got, err)
	}
}

// Concurrent sweeps (the cron and every function's stale step) share the
// backlog: every event is delivered exactly once, none waits for another.
func TestConcurrentClaimsDeliverEveryEventExactlyOnce(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	exec(t, pool, `INSERT INTO messages (sender_id, receiver_id, body)
SELECT 'alice', 'bob', 'm' || i FROM generate_series(1, 300) AS i`)
	total := queryInt(t, pool, `SELECT count(*) FROM events`)
	var (
		rec recorder
		wg  sync.WaitGroup
	)
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, err := db.ClaimStaleEvents(ctx, 0, 25, func(ctx context.Context, events []chat.Event) error {
					time.Sleep(2 * time.Millisecond) // a Pusher call holds the locks a while
					return rec.deliver(ctx, events)
				})
				if err != nil {
					errs <- err
					return
				}
				if n == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[int64]int{}
	for _, e := range rec.events {
		seen[e.Seq]++
		if seen[e.Seq] > 1 {
			t.Fatalf("event %d delivered twice", e.Seq)
		}
	}
	// A claim that found every remaining row locked returns 0 early; the
	// backlog is empty once all workers stopped and a last claim finds nothing.
	if _, err := db.ClaimStaleEvents(ctx, 0, 1000, rec.deliver); err != nil {
		t.Fatal(err)
	}
	if got := len(rec.events); got != total {
		t.Errorf("delivered %d events, want %d", got, total)
	}
}

func TestDeleteEventsBeforeRemovesOnlyOldEventsInBoundedRuns(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		exec(t, pool, `INSERT INTO events (channel, event, data, created_at)
SELECT 'private-user-bob', 'x', '{}', now() - interval '8 days' + i * interval '1 second'
FROM generate_series(1, 5) AS i`)
		send(t, db, "alice", "bob", "fresh")
		cutoff := time.Now().Add(-7 * 24 * time.Hour)
		if n, err := db.DeleteEventsBefore(ctx, cutoff, 3); err != nil || n != 3 {
			t.Fatalf("first run deleted %d, %v; want 3 (the limit)", n, err)
		}
		if n, err := db.DeleteEventsBefore(ctx, cutoff, 3); err != nil || n != 2 {
			t.Fatalf("second run deleted %d, %v; want 2", n, err)
		}
		if n, err := db.DeleteEventsBefore(ctx, cutoff, 3); err != nil || n != 0 {
			t.Fatalf("third run deleted %d, %v; want 0", n, err)
		}
		if got, want := queryInt(t, pool, `SELECT count(*) FROM events`), 2; got != want {
			t.Errorf("events left = %d, want %d (the fresh message's)", got, want)
		}
		// The deleted events are no longer pending; the fresh ones still are.
		if got, want := queryInt(t, pool, `SELECT count(*) FROM events_pending`), 2; got != want {
			t.Errorf("pending = %d, want %d", got, want)
		}
	})
}
