package localpg_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/localpg"
)

// requireBinaries skips on a machine without a PostgreSQL install, except in
// CI, where a missing install is a broken machine.
func requireBinaries(tb testing.TB) {
	tb.Helper()
	if _, err := localpg.FindBinDir(); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatal(err)
		}
		tb.Skip(err)
	}
}

// reachableDir is a directory every user can traverse to, so that as root
// the server's unprivileged user can use it without the fallback.
func reachableDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "localpg-test-")
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "pg")
}

func start(tb testing.TB, dir string) *localpg.Server {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := localpg.Start(ctx, localpg.Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(tbWriter{tb}, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			tb.Error(err)
		}
	})
	return srv
}

func mustExec(tb testing.TB, url, sql string, args ...any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

func count(tb testing.TB, url, sql string) int {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, sql).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	return n
}

func TestStartStopRestartKeepsData(t *testing.T) {
	requireBinaries(t)
	dir := reachableDir(t)

	srv := start(t, dir)
	if got, want := srv.Dir(), dir; got != want {
		t.Fatalf("Dir() = %q, want %q (no fallback for a reachable dir)", got, want)
	}
	if got, want := srv.URL(), fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", srv.Port()); got != want {
		t.Fatalf("URL() = %q, want %q", got, want)
	}
	mustExec(t, srv.URL(), "CREATE TABLE kept (n int); INSERT INTO kept VALUES (1)")
	port := srv.Port()
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}

	srv = start(t, dir)
	if got, want := srv.Port(), port; got != want {
		t.Errorf("port after restart = %d, want the previous %d", got, want)
	}
	if got, want := count(t, srv.URL(), "SELECT count(*) FROM kept"), 1; got != want {
		t.Fatalf("rows after restart = %d, want %d", got, want)
	}
}

func TestStartReusesRunningServer(t *testing.T) {
	requireBinaries(t)
	dir := reachableDir(t)
	first := start(t, dir)
	second := start(t, dir)
	if got, want := second.Port(), first.Port(); got != want {
		t.Fatalf("second Start port = %d, want the running server's %d", got, want)
	}
	mustExec(t, second.URL(), "SELECT 1")
}

func TestStartClearsStalePidFile(t *testing.T) {
	requireBinaries(t)
	dir := reachableDir(t)
	srv := start(t, dir)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	// PID 1 is alive and is not our postmaster, as after a container restart
	// that reused the PID; the port may be another cluster's (5432 is the
	// usual one), which must not be mistaken for ours.
	stale := fmt.Sprintf("1\n%s\n0\n%d\n\n127.0.0.1\n0 0\nready\n", filepath.Join(srv.Dir(), "data"), 5432)
	if err := os.WriteFile(filepath.Join(srv.Dir(), "data", "postmaster.pid"), []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	srv = start(t, dir)
	mustExec(t, srv.URL(), "SELECT 1")
}

// TestStartFallsBackWhenUnreachable only means something as root: t.TempDir's
// parent is private to root, so the server's user cannot reach it.
func TestStartFallsBackWhenUnreachable(t *testing.T) {
	requireBinaries(t)
	if os.Geteuid() != 0 {
		t.Skip("only root runs the server as another user")
	}
	dir := filepath.Join(t.TempDir(), "pg")
	srv := start(t, dir)
	t.Cleanup(func() {
		// Cleanups run last-first: stop before removing; start's own Stop then finds nothing to do.
		if err := srv.Stop(); err != nil {
			t.Error(err)
		}
		os.RemoveAll(srv.Dir())
	})
	if srv.Dir() == dir {
		t.Fatalf("Dir() = %q, want a fallback under %s", srv.Dir(), os.TempDir())
	}
	mustExec(t, srv.URL(), "SELECT 1")
}

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(string(p))
	return len(p), nil
}
