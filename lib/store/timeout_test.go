package store

import (
	"context"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/dbtest"
)

// A query blocked in Postgres ends at the store's deadline, as unavailable.
func TestQueriesEndAtTheDeadline(t *testing.T) {
	pool, _ := dbtest.NewPool(t)
	ctx := context.Background()
	db := New(pool)
	db.timeout = 200 * time.Millisecond

	if _, err := pool.Exec(ctx, `INSERT INTO typing_throttle VALUES ('alice', 'c', now() - interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM typing_throttle FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = db.StartTyping(ctx, "alice", "c", time.Second)
	if err == nil {
		t.Fatal("StartTyping succeeded through a held lock")
	}
	if !IsUnavailable(err) {
		t.Errorf("IsUnavailable(%v) = false", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("returned after %v", d)
	}
}
