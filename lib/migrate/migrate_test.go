package migrate_test

import (
	"context"
	"io/fs"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/migrate"
	"github.com/chatwire/chatwire/schema"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestUpAppliesSchemaOnceAndIsIdempotent(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewEmptyDatabase(t)
	for range 2 {
		up(t, dbURL)
		if got, want := version(t, dbURL), migrationCount(t); got != want {
			t.Fatalf("version = %d, want %d", got, want)
		}
	}
}

func TestConcurrentUpCallsAllSucceed(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewEmptyDatabase(t)
	const callers = 6
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			errs <- migrate.Up(ctx, dbURL)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got, want := version(t, dbURL), migrationCount(t); got != want {
		t.Fatalf("version = %d, want %d", got, want)
	}
}

func up(t *testing.T, dbURL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := migrate.Up(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
}

func version(t *testing.T, dbURL string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v int
	if err := conn.QueryRow(ctx, "SELECT version FROM "+migrate.VersionTable).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func migrationCount(t *testing.T) int {
	t.Helper()
	files, err := fs.Glob(schema.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	return len(files)
}

func TestToStopsAtTheGivenVersionAndUpFinishes(t *testing.T) {
	t.Parallel()
	latest, err := migrate.Latest()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := int(latest), migrationCount(t); got != want {
		t.Fatalf("Latest() = %d, want %d", got, want)
	}
	dbURL := dbtest.NewEmptyDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := migrate.To(ctx, dbURL, 1); err != nil {
		t.Fatal(err)
	}
	if got, want := version(t, dbURL), 1; got != want {
		t.Fatalf("version after To(1) = %d, want %d", got, want)
	}
	up(t, dbURL)
	if got, want := version(t, dbURL), int(latest); got != want {
		t.Fatalf("version after Up = %d, want %d", got, want)
	}
}
