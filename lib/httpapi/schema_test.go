package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/migrate"
	"github.com/chatwire/chatwire/schema"
)

// appOn serves chatwire on the database at dbURL, whatever its schema.
func appOn(t *testing.T, dbURL string) *relApp {
	t.Helper()
	return newRelApp(t, relOptions{dbURL: dbURL, pool: mustOpen(t, dbURL)})
}

func expectSchemaHealth(t *testing.T, a *relApp, status int, state string) response {
	t.Helper()
	res := a.do("GET", "/api/health", "", nil).expect(t, status)
	if got := res.field("schema"); got != state {
		t.Errorf("health schema = %v, want %s: %s", got, state, res.raw)
	}
	if got := res.field("database"); got != "ok" {
		t.Errorf("health database = %v, want ok: %s", got, res.raw)
	}
	return res
}

// A database nobody migrated is not healthy: health answers 503 with
// schema "missing" and tells the operator to run `chatwire migrate`; once
// they have, it answers 200 ok.
func TestHealthOnAFreshDatabaseAsksForMigrate(t *testing.T) {
	dbURL := dbtest.NewEmptyDatabase(t)
	a := appOn(t, dbURL)
	res := expectSchemaHealth(t, a, http.StatusServiceUnavailable, "missing")
	if msg := sprint(res.field("message")); !strings.Contains(msg, "chatwire migrate") {
		t.Errorf("health message %q does not name `chatwire migrate`", msg)
	}
	if res.field("ok") != false {
		t.Errorf("health ok = %v, want false", res.field("ok"))
	}

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := migrate.Up(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	if res := expectSchemaHealth(t, a, http.StatusOK, "ok"); res.field("message") != nil {
		t.Errorf("a healthy answer carries a message: %s", res.raw)
	}
}

// A database one migration behind this build answers 503 "behind", naming
// both numbers and `chatwire migrate`.
func TestHealthOnADatabaseAMigrationBehindAsksForMigrate(t *testing.T) {
	dbURL := dbtest.NewEmptyDatabase(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := migrate.To(ctx, dbURL, schema.Version-1); err != nil {
		t.Fatal(err)
	}
	a := appOn(t, dbURL)
	res := expectSchemaHealth(t, a, http.StatusServiceUnavailable, "behind")
	msg := sprint(res.field("message"))
	for _, want := range []string{"chatwire migrate", "migration " + itoa(schema.Version-1), "needs " + itoa(schema.Version)} {
		if !strings.Contains(msg, want) {
			t.Errorf("health message %q does not say %q", msg, want)
		}
	}
	if err := migrate.Up(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	expectSchemaHealth(t, a, http.StatusOK, "ok")
}

// Every route that needs the database, met with one nobody migrated,
// answers 503 schema_not_migrated with the hint instead of 500 internal.
func TestEveryRouteOnAnUnmigratedDatabaseAnswersSchemaNotMigrated(t *testing.T) {
	a := appOn(t, dbtest.NewEmptyDatabase(t))
	room := "r1"
	hook := `{"time_ms":1,"events":[{"name":"member_added","channel":"presence-user-alice","user_id":"alice"}]}`
	answers := map[string]response{
		"send":                a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "hi"}),
		"history":             a.do("GET", "/api/messages/history?with=bob", "alice", nil),
		"poll":                a.do("GET", "/api/messages/poll?cursor=1_0", "bob", nil),
		"read":                a.do("POST", "/api/messages/read", "bob", map[string]any{"with": "alice"}),
		"typing":              a.do("POST", "/api/typing", "alice", map[string]any{"to": "bob", "typing": true}),
		"pusher auth (room)":  a.do("POST", "/api/pusher/auth", "alice", url.Values{"socket_id": {"1.2"}, "channel_name": {"private-room-" + room}}),
		"rooms list":          a.do("GET", "/api/rooms", "alice", nil),
		"rooms create":        a.do("POST", "/api/rooms", "alice", map[string]any{"name": "Ops"}),
		"rooms join":          a.do("POST", "/api/rooms/join", "alice", map[string]any{"room_id": room}),
		"rooms leave":         a.do("POST", "/api/rooms/leave", "alice", map[string]any{"room_id": room}),
		"preferences get":     a.do("GET", "/api/notifications/preferences", "alice", nil),
		"preferences put":     a.do("PUT", "/api/notifications/preferences", "alice", map[string]any{"enabled": true, "muted_channels": []string{}}),
		"presence":            a.do("GET", "/api/presence?user_ids=bob", "alice", nil),
		"pusher webhook":      a.do("POST", "/api/pusher/webhook", "", hook, "X-Pusher-Key", pusherKey, "X-Pusher-Signature", sign(pusherSecret, []byte(hook))),
		"cron":                a.cron(),
		"database webhook":    a.dbWebhook(map[string]any{"type": "INSERT", "table": "room_members", "schema": "public", "record": map[string]any{"room_id": room, "user_id": "bob", "joined_at": "2026-01-01T00:00:00Z"}}),
		"send with client_id": a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "hi", "client_id": "c1"}),
	}
	for name, res := range answers {
		if res.status != http.StatusServiceUnavailable || res.field("error", "code") != "schema_not_migrated" {
			t.Errorf("%s: %d %s, want 503 schema_not_migrated", name, res.status, res.raw)
			continue
		}
		if msg := sprint(res.field("error", "message")); !strings.Contains(msg, "chatwire migrate") {
			t.Errorf("%s: message %q does not name `chatwire migrate`", name, msg)
		}
	}
	if logs := a.logs.String(); strings.Contains(logs, `"internal error"`) {
		t.Errorf("an unmigrated database was logged as an internal error:\n%s", logs)
	}
}

func itoa(n int32) string { return sprint(n) }
