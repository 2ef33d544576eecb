package store_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/store"
)

func TestStartTypingThrottles(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, _ *pgxpool.Pool) {
		ctx := testContext(t)
		start := func(user, channel string, interval time.Duration) time.Duration {
			t.Helper()
			wait, err := db.StartTyping(ctx, user, channel, interval)
			if err != nil {
				t.Fatal(err)
			}
			return wait
		}
		if w := start("alice", "private-chat-alice-bob", time.Second); w != 0 {
			t.Fatalf("first start: wait %v, want 0", w)
		}
		if w := start("alice", "private-chat-alice-bob", time.Second); w <= 0 || w > time.Second {
			t.Errorf("second start within 1s: wait %v, want in (0, 1s]", w)
		}
		if w := start("alice", "private-chat-alice-carol", time.Second); w != 0 {
			t.Errorf("other channel: wait %v, want 0", w)
		}
		if w := start("bob", "private-chat-alice-bob", time.Second); w != 0 {
			t.Errorf("other user: wait %v, want 0", w)
		}
		// A short interval passes.
		if w := start("dan", "c", 50*time.Millisecond); w != 0 {
			t.Fatalf("first start: wait %v", w)
		}
		time.Sleep(60 * time.Millisecond)
		if w := start("dan", "c", 50*time.Millisecond); w != 0 {
			t.Errorf("after the interval: wait %v, want 0", w)
		}
	})
}

func TestStartTypingConcurrentStartsLetOneThrough(t *testing.T) {
	db, _ := newStore(t)
	ctx := testContext(t)
	results := make(chan time.Duration, 20)
	for range 20 {
		go func() {
			w, err := db.StartTyping(ctx, "alice", "ch", time.Minute)
			if err != nil {
				t.Error(err)
			}
			results <- w
		}()
	}
	through := 0
	for range 20 {
		if w := <-results; w == 0 {
			through++
		} else if w > time.Minute {
			t.Errorf("wait %v beyond the interval", w)
		}
	}
	if through != 1 {
		t.Errorf("%d of 20 concurrent starts went through, want 1", through)
	}
}
