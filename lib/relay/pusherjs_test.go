package relay_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/auth"
	"github.com/chatwire/chatwire/lib/config"
	"github.com/chatwire/chatwire/lib/httpapi"
	"github.com/chatwire/chatwire/lib/nodetest"
	"github.com/chatwire/chatwire/lib/relay"
)

const jwtSecret = "relay-test-jwt-secret-0123456789abcdef"

// TestPusherJSThroughTheRelay runs e2e/relay.test.mjs: the real pusher-js,
// subscribed through chatwire's /api/pusher/auth, through Pusher API
// outages and legacy rows that only the relay publishes. The Node test
// drives the faults through a small control server.
func TestPusherJSThroughTheRelay(t *testing.T) {
	h := newHarness(t)
	env := map[string]string{
		"DATABASE_URL":    h.dbURL,
		"AUTH_JWT_SECRET": jwtSecret,
		"PUSHER_APP_ID":   pusherAppID,
		"PUSHER_KEY":      pusherKey,
		"PUSHER_SECRET":   pusherSecret,
		"PUSHER_HOST":     h.faults.addr,
		"PUSHER_USE_TLS":  "false",
		"SEND_RATE_LIMIT": "off",
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	deps, err := httpapi.NewDeps(cfg, h.pool, h.logger(), httpapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	app := httptest.NewServer(httpapi.NewHandler(deps))
	t.Cleanup(app.Close)
	h.startRelay(relay.Options{MaxBackoff: 500 * time.Millisecond})

	control := http.NewServeMux()
	reply := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	control.HandleFunc("POST /faults", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Mode faultMode }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || (in.Mode != passThrough && in.Mode != answer503 && in.Mode != answer429) {
			http.Error(w, "mode: pass, 503 or 429", http.StatusBadRequest)
			return
		}
		h.faults.set(in.Mode)
		reply(w, map[string]bool{"ok": true})
	})
	control.HandleFunc("GET /faults", func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]int64{"calls": h.faults.calls.Load()})
	})
	control.HandleFunc("POST /legacy-message", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ From, To, Body string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var id string
		if err := h.pool.QueryRow(r.Context(),
			`INSERT INTO messages (sender_id, receiver_id, body) VALUES ($1, $2, $3) RETURNING id::text`,
			in.From, in.To, in.Body).Scan(&id); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		reply(w, map[string]string{"id": id})
	})
	ctl := httptest.NewServer(control)
	t.Cleanup(ctl.Close)

	host, port, err := net.SplitHostPort(h.pusher.Addr())
	if err != nil {
		t.Fatal(err)
	}
	nodetest.Run(t, "relay.test.mjs", 3*time.Minute,
		"APP_URL="+app.URL,
		"CONTROL_URL="+ctl.URL,
		"PUSHER_HOST="+host,
		"PUSHER_PORT="+port,
		"PUSHER_KEY="+pusherKey,
		"TOKEN_ALICE="+signToken(t, "alice"),
		"TOKEN_BOB="+signToken(t, "bob"),
	)
}

func signToken(t *testing.T, user string) string {
	t.Helper()
	token, err := auth.SignHS256(jwtSecret, auth.User{ID: user, Name: user}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return token
}
