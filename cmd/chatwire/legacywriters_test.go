package main

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/dbtest"
)

func TestLegacyWritersOnThenOff(t *testing.T) {
	checkGoroutines(t)
	databaseURL := dbtest.NewSupabaseDatabase(t, -1)
	env := envFrom(map[string]string{"DIRECT_URL": databaseURL, "SEND_RATE_LIMIT": "7/1m"})
	legacy := func(args ...string) string {
		t.Helper()
		var stdout, stderr strings.Builder
		if err := run(context.Background(), append([]string{"chatwire", "legacy-writers"}, args...), env, &stdout, &stderr); err != nil {
			t.Fatalf("legacy-writers %v: %v\n%s", args, err, stderr.String())
		}
		if strings.Contains(stdout.String(), databaseURL) {
			t.Errorf("legacy-writers printed the database URL")
		}
		return stdout.String()
	}
	canInsert := func() bool {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, databaseURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		return dbtest.AsDataAPI(ctx, conn, "authenticated", "bob", func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO messages (receiver_id, body) VALUES ('alice', 'hi')`)
			return err
		}) == nil
	}

	if canInsert() {
		t.Fatal("authenticated inserts before legacy-writers on")
	}
	if out := legacy("on"); !strings.Contains(out, "authenticated may insert its own messages (at most 7/1m0s)") {
		t.Errorf("on printed %q", out)
	}
	if got := countRows(t, databaseURL, `SELECT count(*) FROM chatwire_legacy_writers WHERE role_name = 'authenticated' AND send_count = 7 AND send_per = interval '1 minute'`); got != 1 {
		t.Fatalf("legacy-writers on did not record authenticated with 7/1m")
	}
	if !canInsert() {
		t.Fatal("authenticated cannot insert after legacy-writers on")
	}
	legacy("off")
	if canInsert() {
		t.Fatal("authenticated inserts after legacy-writers off")
	}

	var stderr strings.Builder
	err := run(context.Background(), []string{"chatwire", "legacy-writers", "maybe"}, env, &strings.Builder{}, &stderr)
	if exitCode(err) != 2 {
		t.Errorf("legacy-writers maybe: %v, want a usage error", err)
	}
}
