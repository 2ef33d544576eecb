package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/auth"
	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/pusherlocal"
)

const (
	testPusherAppID  = "4242"
	testPusherKey    = "test-key"
	testPusherSecret = "test-pusher-secret-value"
)

// startTestPusher runs a pusherlocal server for the test on a free port.
func startTestPusher(t *testing.T) *pusherlocal.Server {
	t.Helper()
	srv, err := pusherlocal.New(pusherlocal.Config{AppID: testPusherAppID, Key: testPusherKey, Secret: testPusherSecret})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		srv.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func TestServeWithLocalPusher(t *testing.T) {
	checkGoroutines(t)
	pusherServer := startTestPusher(t)
	env := map[string]string{
		"DATABASE_URL":    dbtest.NewDatabase(t),
		"PUSHER_APP_ID":   testPusherAppID,
		"PUSHER_KEY":      testPusherKey,
		"PUSHER_SECRET":   testPusherSecret,
		"PUSHER_HOST":     pusherServer.Addr(),
		"PUSHER_USE_TLS":  "false",
		"AUTH_JWT_SECRET": testSecret,
	}
	cmd := startCommand(t, env, "serve", "--addr", "127.0.0.1:0")
	client := newClient(t)

	health := waitHealthy(t, client, cmd.addrs.App)
	if got, want := health, (healthAnswer{OK: true, Database: "ok", Pusher: "ok"}); got != want {
		t.Errorf("health = %+v, want %+v", got, want)
	}

	token, err := auth.SignHS256(testSecret, auth.User{ID: "alice", Name: "Alice"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	status, answer := sendMessage(t, client, cmd.addrs.App, token, "hello from serve")
	if got, want := status, http.StatusCreated; got != want {
		t.Fatalf("send status = %d, want %d: %v", got, want, answer)
	}
	if got, want := answer["published"], true; got != want {
		t.Errorf("published = %v, want %v (the local Pusher server should have taken it)", got, want)
	}

	// The send is in the metrics, served on the API's port. No other send
	// carries its acknowledgement: serve's ack timer (chat.LongLivedAckDelay)
	// writes it, and the pending events drop to 0.
	metrics := getText(t, client, cmd.addrs.App+"/metrics")
	for deadline := time.Now().Add(time.Minute); !strings.Contains(metrics, "chatwire_events_pending 0\n") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		metrics = getText(t, client, cmd.addrs.App+"/metrics")
	}
	for _, want := range []string{
		`chatwire_http_request_duration_seconds_count{code="201",method="POST",route="/api/messages/send"} 1`,
		`chatwire_events_published_total{source="api"} 2`,
		`chatwire_events_pending 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, metrics)
		}
	}
	if got := getText(t, client, cmd.addrs.App+"/healthz"); got != `{"ok":true}`+"\n" {
		t.Errorf("/healthz = %q", got)
	}

	resp, err := client.Get(cmd.addrs.App + "/api/no-such-route")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := resp.StatusCode, http.StatusNotFound; got != want {
		t.Errorf("unknown route status = %d, want %d", got, want)
	}

	cmd.stopCleanly(t)
	requireStartLog(t, cmd.stdout.String(), cmd.addrs.App)
	if !strings.Contains(cmd.stdout.String(), `"level":"WARN","msg":"chatwire serve: AUTH_AUDIENCE is not set`) {
		t.Errorf("no warning about the missing AUTH_AUDIENCE:\n%s", cmd.stdout.String())
	}
	for _, secret := range []string{testSecret, testPusherSecret} {
		if strings.Contains(cmd.stdout.String()+cmd.stderr.String(), secret) {
			t.Errorf("the output shows a secret")
		}
	}
}

func TestServeWithRealtimeDisabled(t *testing.T) {
	checkGoroutines(t)
	env := map[string]string{
		"DATABASE_URL":      dbtest.NewDatabase(t),
		"REALTIME_DISABLED": "true",
		"AUTH_JWT_SECRET":   testSecret,
		"AUTH_AUDIENCE":     "authenticated",
	}
	cmd := startCommand(t, env, "serve", "--addr", "127.0.0.1:0")
	client := newClient(t)

	if got, want := waitHealthy(t, client, cmd.addrs.App), (healthAnswer{OK: true, Database: "ok", Pusher: "disabled"}); got != want {
		t.Errorf("health = %+v, want %+v", got, want)
	}
	token, err := auth.SignHS256(testSecret, auth.User{ID: "alice"}, time.Hour, auth.WithAudience("authenticated"))
	if err != nil {
		t.Fatal(err)
	}
	if status, answer := sendMessage(t, client, cmd.addrs.App, token, "stored, delivered by poll"); status != http.StatusCreated {
		t.Fatalf("send status = %d, want 201: %v", status, answer)
	}
	cmd.stopCleanly(t)
	if strings.Contains(cmd.stdout.String(), "AUTH_AUDIENCE") {
		t.Errorf("warned about AUTH_AUDIENCE although it is set:\n%s", cmd.stdout.String())
	}
}

// serve on a database nobody migrated starts, logs what to do, and health
// answers 503 saying the schema is missing.
func TestServeOnAnUnmigratedDatabaseSaysToMigrate(t *testing.T) {
	env := map[string]string{
		"DATABASE_URL":      dbtest.NewEmptyDatabase(t),
		"REALTIME_DISABLED": "true",
		"AUTH_JWT_SECRET":   testSecret,
	}
	cmd := startCommand(t, env, "serve", "--addr", "127.0.0.1:0")
	resp, err := newClient(t).Get(cmd.addrs.App + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	var health struct {
		Schema  string `json:"schema"`
		Message string `json:"message"`
	}
	err = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable || health.Schema != "missing" {
		t.Errorf("health = %d %+v (%v), want 503 with schema missing", resp.StatusCode, health, err)
	}
	cmd.stopCleanly(t)
	var logged bool
	for _, line := range strings.Split(cmd.stdout.String(), "\n") {
		var entry struct {
			Level  string `json:"level"`
			Msg    string `json:"msg"`
			Schema string `json:"schema"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Schema == "missing" {
			logged = entry.Level == "ERROR" && strings.Contains(entry.Msg, "chatwire migrate")
		}
	}
	if !logged {
		t.Errorf("serve did not log an error naming `chatwire migrate` at start:\n%s", cmd.stdout)
	}
}

// requireStartLog checks the one JSON line serve logs when it listens.
func requireStartLog(t *testing.T, stdout, appURL string) {
	t.Helper()
	for _, line := range strings.Split(stdout, "\n") {
		var entry struct {
			Msg string `json:"msg"`
			URL string `json:"url"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "chatwire serve: listening" {
			if entry.URL != appURL {
				t.Errorf("start log url = %q, want %q", entry.URL, appURL)
			}
			return
		}
	}
	t.Errorf("no JSON start line in stdout:\n%s", stdout)
}

func TestServeFailsFastNamingTheVariable(t *testing.T) {
	complete := map[string]string{
		"DATABASE_URL":      "postgres://chat:db-password-value@127.0.0.1:1/chat",
		"REALTIME_DISABLED": "true",
		"AUTH_JWT_SECRET":   testSecret,
	}
	without := func(name string, extra ...string) map[string]string {
		env := make(map[string]string)
		for k, v := range complete {
			if k != name {
				env[k] = v
			}
		}
		for i := 0; i+1 < len(extra); i += 2 {
			env[extra[i]] = extra[i+1]
		}
		return env
	}
	withAddr := []string{"serve", "--addr", "127.0.0.1:0"}
	tests := map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"no DATABASE_URL":    {withAddr, without("DATABASE_URL"), "DATABASE_URL"},
		"no AUTH_JWT_SECRET": {withAddr, without("AUTH_JWT_SECRET"), "AUTH_JWT_SECRET"},
		"short secret":       {withAddr, without("", "AUTH_JWT_SECRET", "short-secret-value"), "AUTH_JWT_SECRET"},
		"no PUSHER_KEY": {withAddr, without("REALTIME_DISABLED",
			"PUSHER_APP_ID", "1", "PUSHER_SECRET", testPusherSecret, "PUSHER_CLUSTER", "eu"), "PUSHER_KEY"},
		// Without --addr, serve reads PORT.
		"bad PORT": {[]string{"serve"}, without("", "PORT", "eighty"), "PORT"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var stdout, stderr strings.Builder
			err := run(ctx, append([]string{"chatwire"}, tt.args...), envFrom(tt.env), &stdout, &stderr)
			if err == nil {
				t.Fatal("serve started")
			}
			if ctx.Err() != nil {
				t.Fatal("serve did not fail fast")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %s", err, tt.want)
			}
			for _, secret := range []string{"db-password-value", "short-secret-value", testSecret, testPusherSecret} {
				if strings.Contains(err.Error()+stdout.String()+stderr.String(), secret) {
					t.Errorf("error or output shows a secret: %q", err)
				}
			}
		})
	}
}

func TestServeAddr(t *testing.T) {
	tests := []struct {
		flag, port, want string
	}{
		{"", "", ":3000"},
		{"", "8080", ":8080"},
		{"127.0.0.1:9000", "8080", "127.0.0.1:9000"},
	}
	for _, tt := range tests {
		got, err := serveAddr(tt.flag, envFrom(map[string]string{"PORT": tt.port}))
		if err != nil || got != tt.want {
			t.Errorf("serveAddr(%q) with PORT=%q = %q, %v; want %q", tt.flag, tt.port, got, err, tt.want)
		}
	}
	for _, bad := range []string{"http", "-1", "70000"} {
		if _, err := serveAddr("", envFrom(map[string]string{"PORT": bad})); err == nil || !strings.Contains(err.Error(), "PORT") {
			t.Errorf("PORT=%q: err = %v, want one naming PORT", bad, err)
		}
	}
}
