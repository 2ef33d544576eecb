package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/chatwire/chatwire/lib/migrate"
	"github.com/chatwire/chatwire/schema"
)

// templateLockKey serializes template builds across test binaries; an
// arbitrary constant, distinct from tern's.
const templateLockKey = int64(0x63687477_74706c) // "chtw" "tpl"

// template is built once per test binary.
var template struct {
	once sync.Once
	name string
	err  error
}

func ensureTemplate(admin string) (string, error) {
	template.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		template.name, template.err = buildTemplate(ctx, admin)
	})
	return template.name, template.err
}

// buildTemplate returns the template database for the current schema,
// creating it if no test binary did yet. The name carries a hash of the
// migrations, so an edited schema gets a new template while other worktrees
// keep using theirs. It is built under another name and renamed when
// complete, so a build cut short never passes for a template, and it does
// not allow connections: CREATE DATABASE ... TEMPLATE fails while anyone is
// connected to the template.
func buildTemplate(ctx context.Context, admin string) (string, error) {
	hash, err := schemaHash()
	if err != nil {
		return "", err
	}
	name := "chatwire_tpl_" + hash
	build := name + "_build"

	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", fmt.Errorf("template: connect: %w", err)
	}
	// Closing the session also releases the advisory lock.
	defer closeConn(ctx, conn)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLockKey); err != nil {
		return "", fmt.Errorf("template: lock: %w", err)
	}

	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", fmt.Errorf("template: %w", err)
	}
	if exists {
		return name, nil
	}
	steps := []string{
		"DROP DATABASE IF EXISTS " + ident(build) + " WITH (FORCE)", // left by a killed run
		"CREATE DATABASE " + ident(build),
	}
	for _, sql := range steps {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return "", fmt.Errorf("template: %s: %w", sql, err)
		}
	}
	buildURL, err := withDatabase(admin, build)
	if err != nil {
		return "", err
	}
	if err := migrate.Up(ctx, buildURL); err != nil {
		return "", fmt.Errorf("template: %w", err)
	}
	steps = []string{
		"ALTER DATABASE " + ident(build) + " WITH ALLOW_CONNECTIONS false",
		"ALTER DATABASE " + ident(build) + " RENAME TO " + ident(name),
	}
	for _, sql := range steps {
		if err := retryInUse(ctx, func() error { _, err := conn.Exec(ctx, sql); return err }); err != nil {
			return "", fmt.Errorf("template: %s: %w", sql, err)
		}
	}
	return name, nil
}

// schemaHash identifies the migrations by their names and contents.
func schemaHash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(schema.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(schema.FS, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("schema hash: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// newDatabase creates chatwire_test_<random> from tpl ("" for an empty
// database) and drops it when the test ends.
func newDatabase(tb testing.TB, admin, tpl string) string {
	tb.Helper()
	name := "chatwire_test_" + randomHex(8)
	sql := "CREATE DATABASE " + ident(name)
	if tpl != "" {
		sql += " TEMPLATE " + ident(tpl)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := adminExec(ctx, admin, sql); err != nil {
		tb.Fatalf("dbtest: %s: %v", sql, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE ends sessions a test left open instead of failing on them.
		sql := "DROP DATABASE IF EXISTS " + ident(name) + " WITH (FORCE)"
		if err := adminExec(ctx, admin, sql); err != nil {
			tb.Errorf("dbtest: %s: %v", sql, err)
		}
	})
	dbURL, err := withDatabase(baseURL(), name)
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	return dbURL
}

// adminExec runs one statement on its own connection to the maintenance
// database, retrying while the template is briefly in use (a connection to
// it closing, or a rename in progress).
func adminExec(ctx context.Context, admin, sql string) error {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer closeConn(ctx, conn)
	return retryInUse(ctx, func() error { _, err := conn.Exec(ctx, sql); return err })
}

func retryInUse(ctx context.Context, f func() error) error {
	for {
		err := f()
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "55006" { // object_in_use
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// withDatabase returns dbURL pointing at database name, keeping its query.
func withDatabase(dbURL, name string) (string, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", fmt.Errorf("database URL: %w", err)
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}

// closeConn closes conn even when ctx is done, within a bound of its own.
func closeConn(ctx context.Context, conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	conn.Close(ctx)
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
