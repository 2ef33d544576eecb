package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/migrate"
)

func TestMigrateTwiceIsIdempotent(t *testing.T) {
	checkGoroutines(t)
	databaseURL := dbtest.NewEmptyDatabase(t)
	// Only DATABASE_URL: migrate must not ask for Pusher or auth variables.
	env := envFrom(map[string]string{"DATABASE_URL": databaseURL})

	for i := range 2 {
		var stdout, stderr strings.Builder
		if err := run(context.Background(), []string{"chatwire", "migrate"}, env, &stdout, &stderr); err != nil {
			t.Fatalf("migrate #%d: %v\nstderr:\n%s", i+1, err, stderr.String())
		}
		if !strings.Contains(stdout.String(), "DATABASE_URL is up to date") {
			t.Errorf("migrate #%d printed %q", i+1, stdout.String())
		}
		if strings.Contains(stdout.String(), databaseURL) {
			t.Errorf("migrate #%d printed the database URL", i+1)
		}
	}
	if got := countRows(t, databaseURL, "SELECT count(*) FROM messages"); got != 0 {
		t.Errorf("messages has %d rows, want 0", got)
	}
	if got := countRows(t, databaseURL, "SELECT count(*) FROM "+migrate.VersionTable); got != 1 {
		t.Errorf("%s has %d rows, want 1", migrate.VersionTable, got)
	}
}

func TestMigratePrefersDirectURL(t *testing.T) {
	checkGoroutines(t)
	direct := dbtest.NewEmptyDatabase(t)
	env := envFrom(map[string]string{
		// A pooler URL that would not do for migrations; here, nothing listens.
		"DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere?connect_timeout=1",
		"DIRECT_URL":   direct,
	})
	if err := run(context.Background(), []string{"chatwire", "migrate"}, env, &strings.Builder{}, &strings.Builder{}); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if got := countRows(t, direct, "SELECT count(*) FROM messages"); got != 0 {
		t.Errorf("messages has %d rows, want 0", got)
	}
}

func TestMigrateNamesTheVariable(t *testing.T) {
	tests := map[string]struct {
		env  map[string]string
		want string
	}{
		"unset":           {map[string]string{}, "DATABASE_URL is required"},
		"not postgres":    {map[string]string{"DATABASE_URL": "mysql://u:hunter2@db/x"}, "DATABASE_URL must be"},
		"bad DIRECT_URL":  {map[string]string{"DATABASE_URL": "postgres://db/x", "DIRECT_URL": "http://u:hunter2@db/x"}, "DIRECT_URL must be"},
		"unreachable URL": {map[string]string{"DATABASE_URL": "postgres://u:hunter2@127.0.0.1:1/x?connect_timeout=1"}, "DATABASE_URL"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := run(context.Background(), []string{"chatwire", "migrate"}, envFrom(tt.env), &strings.Builder{}, &strings.Builder{})
			if err == nil {
				t.Fatal("migrate succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func countRows(t *testing.T, databaseURL, query string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
