package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/chat"
)

// A send beyond MaxSendsInFlight is refused at once with 503 and
// Retry-After, stores nothing, and goes through when retried later.
func TestSendsBeyondTheInFlightBoundAreShedWithRetryAfter(t *testing.T) {
	r := newRelApp(t, relOptions{chat: chat.Options{MaxSendsInFlight: 1}})
	ctx := t.Context()
	// Hold alice's rate-limit bucket: her send stays in flight, waiting for it.
	r.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "first"}).expect(t, http.StatusCreated)
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, `SELECT 1 FROM send_rate_limit WHERE user_id = 'alice' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	held := make(chan response, 1)
	go func() {
		held <- r.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "held"})
	}()
	// Wait (without a clock) until alice's send waits for the lock.
	for {
		var waiting int
		if err := r.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	shed := r.do("POST", "/api/messages/send", "carol", map[string]any{"to": "bob", "body": "shed", "client_id": "c-1"})
	if shed.status != http.StatusServiceUnavailable || shed.field("error", "code") != "unavailable" {
		t.Fatalf("send beyond the bound = %d %s, want 503 unavailable", shed.status, shed.raw)
	}
	if got := shed.header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
	var stored int
	if err := r.pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE sender_id = 'carol'`).Scan(&stored); err != nil || stored != 0 {
		t.Fatalf("shed send stored %d messages (%v), want 0", stored, err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	(<-held).expect(t, http.StatusCreated)
	r.do("POST", "/api/messages/send", "carol", map[string]any{"to": "bob", "body": "shed", "client_id": "c-1"}).expect(t, http.StatusCreated)
}
