package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/dbtest"
)

// chatwire relay, configured by the environment alone (no AUTH_*), publishes
// a legacy writer's row, reports it in /metrics and /healthz, and stops
// cleanly.
func TestRelayPublishesALegacyRow(t *testing.T) {
	checkGoroutines(t)
	pusherServer := startTestPusher(t)
	dbURL := dbtest.NewDatabase(t)
	env := map[string]string{
		"DATABASE_URL":   dbURL,
		"PUSHER_APP_ID":  testPusherAppID,
		"PUSHER_KEY":     testPusherKey,
		"PUSHER_SECRET":  testPusherSecret,
		"PUSHER_HOST":    pusherServer.Addr(),
		"PUSHER_USE_TLS": "false",
	}
	cmd := startCommand(t, env, "relay", "--metrics-addr", "127.0.0.1:0", "--grace", "10ms")
	client := newClient(t)

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('alice', 'bob', 'legacy')`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var pending int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM events_pending`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events still pending after 30 s", pending)
		}
		time.Sleep(20 * time.Millisecond)
	}

	metrics := getText(t, client, cmd.addrs.Metrics+"/metrics")
	for _, want := range []string{
		`chatwire_events_published_total{source="relay"} 2`,
		`chatwire_events_publish_failed_total{source="relay"} 0`,
		`chatwire_events_pending 0`,
		`chatwire_oldest_pending_event_age_seconds 0`,
		`chatwire_relay_poll_duration_seconds_count`,
		`chatwire_publish_duration_seconds_count{source="relay"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, metrics)
		}
	}
	var health struct {
		OK        bool  `json:"ok"`
		Published int64 `json:"published"`
	}
	if err := json.Unmarshal([]byte(getText(t, client, cmd.addrs.Metrics+"/healthz")), &health); err != nil || !health.OK || health.Published != 2 {
		t.Errorf("/healthz = %+v, %v; want ok and 2 published", health, err)
	}
	cmd.stopCleanly(t)
	if strings.Contains(cmd.stdout.String()+cmd.stderr.String(), testPusherSecret) {
		t.Errorf("the output shows a secret")
	}
}

func TestRelayFailsFastNamingTheVariable(t *testing.T) {
	complete := map[string]string{
		"DATABASE_URL":   "postgres://chat:db-password-value@127.0.0.1:1/chat",
		"PUSHER_APP_ID":  testPusherAppID,
		"PUSHER_KEY":     testPusherKey,
		"PUSHER_SECRET":  testPusherSecret,
		"PUSHER_CLUSTER": "eu",
	}
	tests := map[string]struct {
		drop, set, value, want string
	}{
		"no DATABASE_URL":   {drop: "DATABASE_URL", want: "DATABASE_URL"},
		"no PUSHER_KEY":     {drop: "PUSHER_KEY", want: "PUSHER_KEY"},
		"realtime disabled": {set: "REALTIME_DISABLED", value: "true", want: "REALTIME_DISABLED"},
		"bad PORT":          {set: "PORT", value: "eighty", want: "PORT"},
		// The relay signs file URLs with serve's STORAGE_*: half of them is an error.
		"storage without a bucket": {set: "STORAGE_ENDPOINT", value: "https://s3.example.test", want: "STORAGE_BUCKET"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range complete {
				if k != tt.drop {
					env[k] = v
				}
			}
			if tt.set != "" {
				env[tt.set] = tt.value
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var stdout, stderr strings.Builder
			err := run(ctx, []string{"chatwire", "relay"}, envFrom(env), &stdout, &stderr)
			if err == nil || ctx.Err() != nil {
				t.Fatalf("relay: %v; want a quick failure", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %s", err, tt.want)
			}
			if strings.Contains(err.Error()+stdout.String()+stderr.String(), "db-password-value") ||
				strings.Contains(err.Error()+stdout.String()+stderr.String(), testPusherSecret) {
				t.Errorf("error or output shows a secret: %q", err)
			}
		})
	}
}

// getText GETs url and returns the body of a 200 answer.
func getText(t *testing.T, client *http.Client, url string) string {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return string(body)
}
