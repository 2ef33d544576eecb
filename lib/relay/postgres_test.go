package relay_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/relay"
)

// PostgreSQL restarts under a running relay: it reports itself unhealthy
// while the database is gone, backs off, reconnects by itself, and delivers
// the rows written before and after, each once.
func TestPostgresRestartedUnderTheRelay(t *testing.T) {
	pg := dbtest.NewPrivateServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, pg.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	h := newHarnessOn(t, pool, pg.URL())
	bob := h.subscriber("private-chat-alice-bob")
	r, _ := h.startRelay(relay.Options{Grace: time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})

	want := []string{h.legacyMessage("alice", "bob", "before")}
	bob.waitForMessages(30*time.Second, map[string][]string{"private-chat-alice-bob": want})
	// Committed as published before the stop. (A stop between a publish and
	// its commit republishes after the restart: at least once, and clients
	// de-duplicate.)
	waitFor(t, 30*time.Second, "nothing pending", func() bool { return h.pending() == 0 })

	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the relay to notice", func() bool { return !r.Healthy() })
	if err := pg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// The test's own pool drops its dead connections as it meets them.
	waitFor(t, 30*time.Second, "the test's pool to reconnect", func() bool { return pool.Ping(ctx) == nil })
	for i := range 3 {
		want = append(want, h.legacyMessage("alice", "bob", fmt.Sprint("after ", i)))
	}
	bob.waitForMessages(30*time.Second, map[string][]string{"private-chat-alice-bob": want})
	waitFor(t, 10*time.Second, "the relay healthy again", r.Healthy)
	waitFor(t, 30*time.Second, "nothing pending", func() bool { return h.pending() == 0 })
}
