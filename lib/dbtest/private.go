package dbtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/localpg"
	"github.com/chatwire/chatwire/lib/migrate"
)

// PrivateServer is a PostgreSQL server of one test's own, with the schema
// applied, that the test may stop and start again: for tests of what happens
// when the database restarts under a running process. It keeps its port
// across restarts, so URLs and pools built on it stay valid.
type PrivateServer struct {
	dir  string
	port int
	url  string
	srv  *localpg.Server // nil while stopped
}

// NewPrivateServer starts a private server under tb's temporary folder and
// stops it when tb ends. Without PostgreSQL's server binaries it skips, or
// fails when CI is set; with -short it skips.
func NewPrivateServer(tb testing.TB) *PrivateServer {
	tb.Helper()
	if testing.Short() {
		tb.Skip("starts and restarts a private PostgreSQL server")
	}
	if _, err := localpg.FindBinDir(); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("PostgreSQL server binaries are needed: %v", err)
		}
		tb.Skipf("no PostgreSQL server binaries: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	p := &PrivateServer{dir: filepath.Join(tb.TempDir(), "pg"), port: port}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := p.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Stop() })
	if err := migrate.Up(ctx, p.URL()); err != nil {
		tb.Fatal(err)
	}
	return p
}

// URL is the server's connection URL; it does not change across restarts.
func (p *PrivateServer) URL() string { return p.url }

// Stop stops the server; stopping a stopped server does nothing.
func (p *PrivateServer) Stop() error {
	if p.srv == nil {
		return nil
	}
	err := p.srv.Stop()
	p.srv = nil
	return err
}

// Start starts the stopped server again, on its port, with its data.
func (p *PrivateServer) Start(ctx context.Context) error {
	srv, err := localpg.Start(ctx, localpg.Options{Dir: p.dir, Port: p.port})
	if err != nil {
		return fmt.Errorf("dbtest: start private server: %w", err)
	}
	if srv.Port() != p.port {
		_ = srv.Stop()
		return fmt.Errorf("dbtest: PostgreSQL came back on port %d, want %d", srv.Port(), p.port)
	}
	p.srv, p.url = srv, srv.URL()
	return nil
}
