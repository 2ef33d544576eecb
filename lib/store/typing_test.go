package store_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/store"
)

func TestStartTypingThrottles(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, _ *pgxpool.Pool) {
		ctx := testContext(t)
		start := func(user, channel string, interval time.Duration) time.Duration {
			t.Helper()
			start, err := db.StartTyping(ctx, user, channel, interval, chat.RateLimit{})
			if err != nil {
				t.Fatal(err)
			}
			if start.Sent != (start.Wait == 0) || start.Limited {
				t.Fatalf("start = %+v: sent exactly when there is no wait, never limited without a limit", start)
			}
			return start.Wait
		}
		// An interval no run outlasts, so the second start is always inside it.
		if w := start("alice", "private-chat-alice-bob", time.Hour); w != 0 {
			t.Fatalf("first start: wait %v, want 0", w)
		}
		if w := start("alice", "private-chat-alice-bob", time.Hour); w <= 0 || w > time.Hour {
			t.Errorf("second start within the hour: wait %v, want in (0, 1h]", w)
		}
		if w := start("alice", "private-chat-alice-carol", time.Hour); w != 0 {
			t.Errorf("other channel: wait %v, want 0", w)
		}
		if w := start("bob", "private-chat-alice-bob", time.Hour); w != 0 {
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
			s, err := db.StartTyping(ctx, "alice", "ch", time.Minute, chat.RateLimit{})
			if err != nil {
				t.Error(err)
			}
			results <- s.Wait
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

// Starts across many chats spend one bucket per user; throttled keystrokes
// spend nothing; a refused start is not recorded, so no stop follows it.
func TestTypingStartsAreLimitedPerUserAcrossChats(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, _ *pgxpool.Pool) {
		ctx := testContext(t)
		limit := chat.RateLimit{Count: 3, Per: time.Hour} // no run outlasts a refill
		start := func(channel string) chat.TypingStart {
			t.Helper()
			s, err := db.StartTyping(ctx, "alice", channel, time.Hour, limit)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		for i, ch := range []string{"c1", "c2", "c3"} {
			if s := start(ch); !s.Sent {
				t.Fatalf("start %d in %s: %+v, want sent", i+1, ch, s)
			}
		}
		if s := start("c1"); s.Sent || s.Limited || s.Wait <= 0 {
			t.Errorf("throttled start: %+v, want throttled (not limited) with a wait", s)
		}
		s := start("c4")
		if s.Sent || !s.Limited || s.Wait <= 0 || s.Wait > time.Hour {
			t.Errorf("4th chat: %+v, want limited with a wait of at most the period", s)
		}
		if other, err := db.StartTyping(ctx, "bob", "c4", time.Hour, limit); err != nil || !other.Sent {
			t.Errorf("another user: %+v, %v; want sent", other, err)
		}
		stop := func(user, channel string) bool {
			t.Helper()
			send, err := db.StopTyping(ctx, user, channel)
			if err != nil {
				t.Fatal(err)
			}
			return send
		}
		if stop("alice", "c4") {
			t.Error("a stop after a refused start was sent")
		}
		if stop("alice", "nowhere") {
			t.Error("a stop without any start was sent")
		}
		if !stop("alice", "c1") {
			t.Error("the stop after a sent start was not sent")
		}
		if stop("alice", "c1") {
			t.Error("a second stop was sent")
		}
	})
}
