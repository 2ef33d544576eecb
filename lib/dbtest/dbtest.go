// Package dbtest gives each test its own PostgreSQL database.
//
// The server is the one at TEST_DATABASE_URL, by default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable. When it is
// unreachable the test fails if CI is set (CI never skips database tests);
// otherwise dbtest starts a private server with lib/localpg, once per test
// binary, in a directory under os.TempDir() shared by all test binaries of
// the user (see Main).
//
// Each database is created from a template holding the schema, built once
// per schema version, so a new database costs a file copy, not a migration.
// Query parameters of TEST_DATABASE_URL carry over to the returned URLs:
// TEST_DATABASE_URL=...?default_query_exec_mode=exec runs the tests the way
// PgBouncer or Supavisor in transaction mode would.
//
// To run them through a real pooler, point TEST_DATABASE_URL at it and
// TEST_DATABASE_ADMIN_URL at the server behind it: databases are then
// created, dropped and templated directly on the server, and the returned
// URLs reach them through the pooler (with default_query_exec_mode=exec
// unless TEST_DATABASE_URL sets a mode). scripts/pgbouncer.sh starts one.
package dbtest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// NewDatabase creates an empty database with the schema applied and returns
// its URL; the database is dropped when the test ends.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	admin := adminURL(tb)
	tpl, err := ensureTemplate(admin)
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	return newDatabase(tb, admin, tpl)
}

// NewEmptyDatabase creates a database without the schema, for tests of the
// migrations themselves, and returns its URL; it is dropped when the test ends.
func NewEmptyDatabase(tb testing.TB) string {
	tb.Helper()
	return newDatabase(tb, adminURL(tb), "")
}

// NewPool is NewDatabase plus a pool on the database, closed when the test
// ends (before the database is dropped).
func NewPool(tb testing.TB) (*pgxpool.Pool, string) {
	tb.Helper()
	url := NewDatabase(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		tb.Fatalf("dbtest: pool: %v", err)
	}
	tb.Cleanup(pool.Close)
	if err := pool.Ping(ctx); err != nil {
		tb.Fatalf("dbtest: pool: %v", err)
	}
	return pool, url
}

// BehindPooler reports whether test databases are reached through a
// transaction pooler (TEST_DATABASE_ADMIN_URL is set). Named prepared
// statements, pgx's default cache_statement mode, do not work there.
func BehindPooler() bool { return os.Getenv("TEST_DATABASE_ADMIN_URL") != "" }

// Main runs the tests and then releases the private server dbtest may have
// started, stopping it unless another test binary still uses it. Use it as
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
//
// Without it the private server keeps running after the tests, and the next
// run reuses it.
func Main(m *testing.M) {
	code := m.Run()
	if err := releaseServer(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}
