package dbtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/localpg"
)

// DefaultURL is the server tests use when TEST_DATABASE_URL is unset: the one
// the CI machines run.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// server is resolved once per test binary: every test shares it.
var server struct {
	once  sync.Once
	admin string // URL of a maintenance database, where databases are created
	// base is the URL tests reach their databases through: TEST_DATABASE_URL,
	// which may be a connection pooler, or admin when it is the same server.
	base   string
	err    error
	shared *sharedServer // set when this binary uses the private server
}

func adminURL(tb testing.TB) string {
	tb.Helper()
	resolve()
	if server.err != nil {
		tb.Fatalf("dbtest: %v", server.err)
	}
	return server.admin
}

// baseURL is the URL whose host, port, user and query a test database's URL
// takes.
func baseURL() string {
	resolve()
	if server.base != "" {
		return server.base
	}
	return server.admin
}

func resolve() {
	server.once.Do(func() {
		if admin := os.Getenv("TEST_DATABASE_ADMIN_URL"); admin != "" {
			server.admin, server.base, server.err = resolvePooler(admin, os.Getenv("TEST_DATABASE_URL"))
			return
		}
		server.admin, server.shared, server.err = resolveServer()
	})
}

// resolvePooler serves TEST_DATABASE_URL pointing at a transaction pooler
// (PgBouncer, Supavisor) in front of the server at TEST_DATABASE_ADMIN_URL.
// Creating and dropping databases and the template build with its
// session-level advisory lock go to the server directly: a transaction pooler
// hands each transaction a different server session, so a session lock taken
// through it would be neither held nor released where expected. The tests'
// own connections go through the pooler, with default_query_exec_mode=exec
// unless TEST_DATABASE_URL names a mode, because named prepared statements do
// not survive a change of server session either.
func resolvePooler(admin, pooled string) (string, string, error) {
	for _, v := range []struct{ name, value string }{{"TEST_DATABASE_ADMIN_URL", admin}, {"TEST_DATABASE_URL", pooled}} {
		u, err := url.Parse(v.value)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return "", "", fmt.Errorf("%s must be a postgres:// URL when TEST_DATABASE_ADMIN_URL is set", v.name)
		}
		if err := ping(v.value); err != nil {
			return "", "", fmt.Errorf("PostgreSQL at %s (%s) is unreachable: %w", u.Redacted(), v.name, err)
		}
	}
	u, _ := url.Parse(pooled)
	q := u.Query()
	if !q.Has("default_query_exec_mode") {
		q.Set("default_query_exec_mode", "exec")
		u.RawQuery = q.Encode()
	}
	return admin, u.String(), nil
}

func resolveServer() (string, *sharedServer, error) {
	raw := os.Getenv("TEST_DATABASE_URL")
	if raw == "" {
		raw = DefaultURL
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, fmt.Errorf("TEST_DATABASE_URL must be a postgres:// URL")
	}
	err = ping(raw)
	if err == nil {
		return raw, nil, nil
	}
	if os.Getenv("CI") != "" {
		return "", nil, fmt.Errorf("PostgreSQL at %s (TEST_DATABASE_URL) is unreachable, and CI is set, so the tests fail instead of starting a private server: %w", u.Redacted(), err)
	}
	shared, err := startShared()
	if err != nil {
		return "", nil, fmt.Errorf("PostgreSQL at %s (TEST_DATABASE_URL) is unreachable and a private server did not start: %w", u.Redacted(), err)
	}
	admin, err := withQuery(shared.srv.URL(), u.Query())
	if err != nil {
		return "", nil, err
	}
	return admin, shared, nil
}

func ping(dbURL string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer closeConn(ctx, conn)
	return conn.Ping(ctx)
}

// withQuery adds the query parameters of TEST_DATABASE_URL, such as
// default_query_exec_mode, to the private server's URL. The private server
// has no TLS, so its sslmode stays.
func withQuery(dbURL string, q url.Values) (string, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", fmt.Errorf("private server URL: %w", err)
	}
	own := u.Query()
	for k, v := range q {
		if k != "sslmode" {
			own[k] = v
		}
	}
	u.RawQuery = own.Encode()
	return u.String(), nil
}

// sharedServer is the private server, shared by concurrent test binaries
// (go test ./... runs packages in parallel). Two file locks coordinate them:
// start.lock, held exclusively while starting or stopping the server, and
// users.lock, held shared by every binary using it. The last binary to leave
// gets users.lock exclusively and stops the server; a binary that dies
// without Main leaves it running, and the next run reuses it.
type sharedServer struct {
	dir   string
	srv   *localpg.Server
	users *os.File
}

func startShared() (*sharedServer, error) {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("chatwire-dbtest-%d", os.Getuid()))
	// Traversable: as root, localpg runs the server as another user in dir/pg.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	start, err := lockFile(filepath.Join(dir, "start.lock"), lockExclusive)
	if err != nil {
		return nil, err
	}
	defer start.Close()
	users, err := lockFile(filepath.Join(dir, "users.lock"), lockShared)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := localpg.Start(ctx, localpg.Options{Dir: filepath.Join(dir, "pg")})
	if err != nil {
		users.Close()
		return nil, err
	}
	return &sharedServer{dir: dir, srv: srv, users: users}, nil
}

func releaseServer() error {
	s := server.shared
	if s == nil {
		return nil
	}
	start, err := lockFile(filepath.Join(s.dir, "start.lock"), lockExclusive)
	if err != nil {
		return fmt.Errorf("dbtest: release private server: %w", err)
	}
	defer start.Close()
	defer s.users.Close()
	if !tryUpgrade(s.users) {
		return nil // another test binary still uses it
	}
	if err := s.srv.Stop(); err != nil {
		return fmt.Errorf("dbtest: %w", err)
	}
	return nil
}
