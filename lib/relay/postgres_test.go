package relay_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/localpg"
	"github.com/chatwire/chatwire/lib/migrate"
	"github.com/chatwire/chatwire/lib/relay"
)

// PostgreSQL restarts under a running relay: it reports itself unhealthy
// while the database is gone, backs off, reconnects by itself, and delivers
// the rows written before and after, each once.
func TestPostgresRestartedUnderTheRelay(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and restarts a private PostgreSQL server")
	}
	if _, err := localpg.FindBinDir(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL server binaries are needed: %v", err)
		}
		t.Skipf("no PostgreSQL server binaries: %v", err)
	}
	port := freePort(t)
	dir := filepath.Join(t.TempDir(), "pg")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pg, err := localpg.Start(ctx, localpg.Options{Dir: dir, Port: port})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Stop() })
	if err := migrate.Up(ctx, pg.URL()); err != nil {
		t.Fatal(err)
	}
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
	pg, err = localpg.Start(ctx, localpg.Options{Dir: dir, Port: port})
	if err != nil {
		t.Fatal(err)
	}
	if pg.Port() != port {
		t.Fatalf("PostgreSQL came back on port %d, want %d", pg.Port(), port)
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

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
