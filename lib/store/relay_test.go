package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/store"
)

func TestOldestPendingAge(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	if _, ok, err := db.OldestPendingAge(ctx); err != nil || ok {
		t.Fatalf("OldestPendingAge of an empty log = %v, %v; want none", ok, err)
	}
	exec(t, pool, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('alice', 'bob', 'hi')`)
	exec(t, pool, `UPDATE events SET created_at = created_at - interval '1 minute'`)
	age, ok, err := db.OldestPendingAge(ctx)
	if err != nil || !ok || age < time.Minute || age > time.Hour {
		t.Errorf("OldestPendingAge = %v, %v, %v; want about a minute", age, ok, err)
	}
}

func TestClaimPendingInOrderLeavesYoungEventsToTheirSender(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	exec(t, pool, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('alice', 'bob', 'young')`)
	var rec recorder
	if n, err := db.ClaimPendingInOrder(ctx, time.Hour, 10, rec.deliver); err != nil || n != 0 {
		t.Fatalf("claim with an hour's grace = %d, %v; want 0", n, err)
	}
	if n, err := db.ClaimPendingInOrder(ctx, 0, 10, rec.deliver); err != nil || n != 2 {
		t.Fatalf("claim with no grace = %d, %v; want 2 (new-message, message-notification)", n, err)
	}
	if got := queryInt(t, pool, `SELECT count(*) FROM events_pending`); got != 0 {
		t.Errorf("%d pending after the claim, want 0", got)
	}
}

// A channel's events never overtake each other: a row another transaction
// holds, or one still in its grace period, keeps every later row of its
// channel back, while other channels go ahead.
func TestClaimPendingInOrderKeepsEachChannelsOrder(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	// Alternate the two chats, one message per statement: ids interleave.
	for _, to := range []string{"bob", "carol", "bob", "carol", "bob", "carol"} {
		exec(t, pool, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('alice', $1, 'm')`, to)
	}
	bobChat := chat.ChatChannel("alice", "bob")
	first := int64(queryInt(t, pool, `SELECT min(id) FROM events WHERE channel = $1`, bobChat))

	// Another claim holds the first event of alice-bob.
	holder, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(ctx)
	if _, err := holder.Exec(ctx, `SELECT 1 FROM events_pending WHERE event_id = $1 FOR UPDATE`, first); err != nil {
		t.Fatal(err)
	}
	var rec recorder
	n, err := db.ClaimPendingInOrder(ctx, 0, 100, rec.deliver)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range rec.events {
		if e.Channel == bobChat {
			t.Errorf("claimed %s %d on %s while an earlier event of that channel was held", e.Name, e.Seq, e.Channel)
		}
	}
	if n == 0 {
		t.Errorf("claimed nothing: the other channels should have gone ahead")
	}
	if err := holder.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	// Released: the rest goes out, oldest first.
	rec = recorder{}
	if _, err := db.ClaimPendingInOrder(ctx, 0, 100, rec.deliver); err != nil {
		t.Fatal(err)
	}
	var bobSeqs []int64
	for _, e := range rec.events {
		if e.Channel == bobChat {
			bobSeqs = append(bobSeqs, e.Seq)
		}
	}
	if len(bobSeqs) != 3 || bobSeqs[0] != first {
		t.Errorf("alice-bob after the release: %v, want its 3 events from %d on", bobSeqs, first)
	}
	for i := 1; i < len(bobSeqs); i++ {
		if bobSeqs[i] < bobSeqs[i-1] {
			t.Errorf("alice-bob out of order: %v", bobSeqs)
		}
	}
	if got := queryInt(t, pool, `SELECT count(*) FROM events_pending`); got != 0 {
		t.Errorf("%d pending at the end, want 0", got)
	}
}

func TestClaimPendingInOrderDropsRowsOfDeletedEventsAndKeepsRowsWhenDeliveryFails(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	exec(t, pool, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('alice', 'bob', 'one')`)
	boom := errors.New("pusher down")
	if _, err := db.ClaimPendingInOrder(ctx, 0, 10, (&recorder{fail: boom}).deliver); !errors.Is(err, boom) {
		t.Fatalf("claim with a failing delivery: %v, want %v", err, boom)
	}
	if got, want := queryInt(t, pool, `SELECT count(*) FROM events_pending`), 2; got != want {
		t.Fatalf("pending after a failed delivery = %d, want %d", got, want)
	}
	exec(t, pool, `DELETE FROM events`) // by hand: the pending rows stay
	var rec recorder
	if n, err := db.ClaimPendingInOrder(ctx, 0, 10, rec.deliver); err != nil || n != 0 {
		t.Fatalf("claim of orphans = %d, %v; want 0", n, err)
	}
	if got := queryInt(t, pool, `SELECT count(*) FROM events_pending`); got != 0 {
		t.Errorf("%d orphan pending rows left, want 0", got)
	}
}

// Claimers racing over one backlog deliver each event exactly once, and each
// channel's events in log order.
func TestConcurrentOrderedClaimsDeliverOnceAndInOrder(t *testing.T) {
	_, pool := newStore(t)
	ctx := testContext(t)
	exec(t, pool, `INSERT INTO messages (sender_id, receiver_id, body)
SELECT 'alice', 'u' || (i % 7), 'm' || i FROM generate_series(1, 350) AS i`)
	total := queryInt(t, pool, `SELECT count(*) FROM events`)
	var (
		mu        sync.Mutex
		delivered []chat.Event
		wg        sync.WaitGroup
	)
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			claimer := store.New(pool)
			for idle := 0; idle < 20; {
				n, err := claimer.ClaimPendingInOrder(ctx, 0, 10, func(_ context.Context, events []chat.Event) error {
					mu.Lock()
					defer mu.Unlock() // publishes are atomic, as one Pusher call's events are ordered
					time.Sleep(time.Millisecond)
					delivered = append(delivered, events...)
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
				if n == 0 {
					idle++
					time.Sleep(5 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checkOnceInOrder(t, delivered, total)
	if got := queryInt(t, pool, `SELECT count(*) FROM events_pending`); got != 0 {
		t.Errorf("%d pending at the end, want 0", got)
	}
}

func checkOnceInOrder(t *testing.T, delivered []chat.Event, total int) {
	t.Helper()
	seen := map[int64]int{}
	last := map[string]int64{}
	for _, e := range delivered {
		seen[e.Seq]++
		if e.Seq < last[e.Channel] {
			t.Errorf("%s: event %d delivered after %d", e.Channel, e.Seq, last[e.Channel])
		}
		last[e.Channel] = e.Seq
	}
	if len(seen) != total || len(delivered) != total {
		t.Errorf("delivered %d events, %d distinct; want each of %d once", len(delivered), len(seen), total)
	}
}
