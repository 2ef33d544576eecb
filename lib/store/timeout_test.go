package store

import (
	"context"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/chat"
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
	_, err = db.StartTyping(ctx, "alice", "c", time.Second, chat.RateLimit{})
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

// Sends of one user do not queue on the users row while the name is unchanged:
// a transaction holding that row locked must not block a send.
func TestSendDoesNotLockTheSenderRow(t *testing.T) {
	pool, _ := dbtest.NewPool(t)
	ctx := context.Background()
	db := New(pool)
	db.timeout = 3 * time.Second
	alice := chat.User{ID: "alice", Name: "Alice"}
	if _, err := db.InsertMessage(ctx, alice, chat.NewMessage{ReceiverID: "bob", Body: "first"}); err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = 'alice' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.InsertMessage(ctx, alice, chat.NewMessage{ReceiverID: "bob", Body: "second"}); err != nil {
		t.Fatalf("send while the users row is locked: %v", err)
	}
	if _, err := db.InsertMessage(ctx, alice, chat.NewMessage{ReceiverID: "bob", Body: "third", ClientID: "k"}); err != nil {
		t.Fatalf("send with client_id while the users row is locked: %v", err)
	}
}
