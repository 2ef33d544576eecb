package store_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/store"
)

func TestTakeSendTokenIsATokenBucketPerUser(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		// One token an hour: no run, however slow, refills one by itself, so
		// each step below sees exactly the time the test moves on.
		limit := chat.RateLimit{Count: 3, Per: 3 * time.Hour}
		take := func(user string) time.Duration {
			t.Helper()
			wait, err := db.TakeSendToken(ctx, user, limit)
			if err != nil {
				t.Fatal(err)
			}
			return wait
		}
		// elapse moves alice's bucket d into the past, as if d had passed.
		elapse := func(d time.Duration) {
			t.Helper()
			if _, err := pool.Exec(ctx, `UPDATE send_rate_limit SET updated_at = updated_at - make_interval(secs => $1) WHERE user_id = 'alice'`, d.Seconds()); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 3 {
			if w := take("alice"); w != 0 {
				t.Fatalf("send %d of a full bucket: wait %v, want 0", i+1, w)
			}
		}
		w := take("alice")
		if w < 50*time.Minute || w > time.Hour {
			t.Fatalf("fourth send: wait %v, want about an hour (one token), at most an hour", w)
		}
		if got := take("bob"); got != 0 {
			t.Errorf("another user: wait %v, want 0", got)
		}
		// A refused send takes nothing: after the announced wait one send passes.
		elapse(w)
		if got := take("alice"); got != 0 {
			t.Errorf("after waiting %v: wait %v, want 0", w, got)
		}
		if got := take("alice"); got <= 0 {
			t.Errorf("right after: wait %v, want > 0", got)
		}
		// The bucket refills to its capacity and no further.
		elapse(24 * time.Hour)
		for i := range 3 {
			if got := take("alice"); got != 0 {
				t.Fatalf("send %d after a long pause: wait %v, want 0", i+1, got)
			}
		}
		if got := take("alice"); got <= 0 {
			t.Errorf("send 4 after a long pause: wait %v, want > 0 (capacity 3)", got)
		}
	})
}

// Concurrent sends of one user queue on the user's row: exactly the
// bucket's capacity gets through, however they interleave.
func TestTakeSendTokenUnderConcurrency(t *testing.T) {
	db, _ := newStore(t)
	ctx := testContext(t)
	limit := chat.RateLimit{Count: 10, Per: time.Hour}
	var (
		wg      sync.WaitGroup
		allowed atomic.Int64
	)
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wait, err := db.TakeSendToken(ctx, "alice", limit)
			if err != nil {
				t.Error(err)
				return
			}
			if wait == 0 {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if got, want := allowed.Load(), int64(10); got != want {
		t.Errorf("%d of 40 concurrent sends allowed, want %d", got, want)
	}
}

func TestTakeSendTokenWithoutLimitTouchesNothing(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	for range 5 {
		if wait, err := db.TakeSendToken(ctx, "alice", chat.RateLimit{}); err != nil || wait != 0 {
			t.Fatalf("no limit: wait %v, err %v", wait, err)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM send_rate_limit`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d rows written without a limit, want 0", n)
	}
}
