package dbtest_test

import (
	"context"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/migrate"
	"github.com/chatwire/chatwire/schema"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestParallelTestsGetTheirOwnDatabaseWithSchema(t *testing.T) {
	var mu sync.Mutex
	names := map[string]bool{}
	for _, name := range []string{"a", "b"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pool, _ := dbtest.NewPool(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			var db string
			var version int
			err := pool.QueryRow(ctx, "SELECT current_database(), (SELECT version FROM "+migrate.VersionTable+")").Scan(&db, &version)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := version, migrationCount(t); got != want {
				t.Errorf("schema version = %d, want %d", got, want)
			}
			var messages *string
			if err := pool.QueryRow(ctx, "SELECT to_regclass('public.messages')::text").Scan(&messages); err != nil {
				t.Fatal(err)
			}
			if messages == nil {
				t.Errorf("table messages missing in %s", db)
			}
			mu.Lock()
			defer mu.Unlock()
			if names[db] {
				t.Errorf("database %s handed out twice", db)
			}
			names[db] = true
		})
	}
}

func TestCleanupDropsDatabase(t *testing.T) {
	var dbURL string
	t.Run("uses", func(t *testing.T) {
		dbURL = dbtest.NewDatabase(t)
		// An open session must not keep the database alive.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := pgx.Connect(ctx, dbURL); err != nil {
			t.Fatal(err)
		}
	})
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	if got, want := databaseExists(t, u.String(), name), false; got != want {
		t.Fatalf("database %s exists after its test = %v, want %v", name, got, want)
	}
}

func TestNewEmptyDatabaseHasNoSchema(t *testing.T) {
	dbURL := dbtest.NewEmptyDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var table *string
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1)::text", migrate.VersionTable).Scan(&table); err != nil {
		t.Fatal(err)
	}
	if table != nil {
		t.Fatalf("%s exists in an empty database", migrate.VersionTable)
	}
}

// TestPrivateServerFallback runs this test binary again against an
// unreachable TEST_DATABASE_URL: without CI it must fall back to a private
// server (keeping the URL's query parameters), with CI it must fail.
func TestPrivateServerFallback(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a private PostgreSQL server")
	}
	if os.Getenv("DBTEST_CHILD") != "" {
		t.Skip("child")
	}
	unreachable := "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&default_query_exec_mode=exec"

	t.Run("without CI", func(t *testing.T) {
		out, err := runChild(t, "TEST_DATABASE_URL="+unreachable, "TEST_DATABASE_ADMIN_URL=", "CI=")
		if err != nil {
			t.Fatalf("child failed: %v\n%s", err, out)
		}
		if !strings.Contains(out, "default_query_exec_mode=exec") {
			t.Errorf("child URL lost default_query_exec_mode:\n%s", out)
		}
	})
	t.Run("with CI", func(t *testing.T) {
		out, err := runChild(t, "TEST_DATABASE_URL="+unreachable, "TEST_DATABASE_ADMIN_URL=", "CI=true")
		if err == nil {
			t.Fatalf("child passed with CI set and no server:\n%s", out)
		}
		if !strings.Contains(out, "CI is set") {
			t.Errorf("child output does not explain the failure:\n%s", out)
		}
	})
}

// With TEST_DATABASE_ADMIN_URL set, TEST_DATABASE_URL is taken for a
// transaction pooler: the test's URL goes through it in exec mode, while
// databases are created on the admin server. Here both name the same server,
// which is enough to check the URLs; CI runs the suites through PgBouncer.
func TestPoolerURLTakesExecMode(t *testing.T) {
	if os.Getenv("DBTEST_CHILD") != "" {
		t.Skip("child")
	}
	direct := os.Getenv("TEST_DATABASE_ADMIN_URL")
	if direct == "" {
		direct = os.Getenv("TEST_DATABASE_URL")
	}
	if direct == "" {
		direct = dbtest.DefaultURL
	}
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Del("default_query_exec_mode")
	u.RawQuery = q.Encode()
	conn, err := pgx.Connect(t.Context(), u.String())
	if err != nil {
		t.Skipf("no directly reachable server to pose as a pooler: %v", err)
	}
	conn.Close(t.Context())

	out, err := runChild(t, "TEST_DATABASE_URL="+u.String(), "TEST_DATABASE_ADMIN_URL="+u.String())
	if err != nil {
		t.Fatalf("child failed: %v\n%s", err, out)
	}
	if !strings.Contains(out, "default_query_exec_mode=exec") {
		t.Errorf("the pooled URL lacks default_query_exec_mode=exec:\n%s", out)
	}
	out, err = runChild(t, "TEST_DATABASE_URL=postgres://postgres@127.0.0.1:1/postgres", "TEST_DATABASE_ADMIN_URL="+u.String(), "CI=")
	if err == nil || !strings.Contains(out, "(TEST_DATABASE_URL) is unreachable") {
		t.Errorf("an unreachable pooler must fail the test, naming TEST_DATABASE_URL: %v\n%s", err, out)
	}
}

// TestChildUsesDatabase is the child of TestPrivateServerFallback.
func TestChildUsesDatabase(t *testing.T) {
	if os.Getenv("DBTEST_CHILD") == "" {
		t.Skip("run by TestPrivateServerFallback")
	}
	pool, dbURL := dbtest.NewPool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM messages").Scan(&n); err != nil {
		t.Fatal(err)
	}
	t.Logf("url=%s", dbURL)
}

func runChild(t *testing.T, env ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestChildUsesDatabase$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), append(env, "DBTEST_CHILD=1")...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func databaseExists(t *testing.T, adminURL, name string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	return exists
}

func migrationCount(t *testing.T) int {
	t.Helper()
	files, err := fs.Glob(schema.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	return len(files)
}
