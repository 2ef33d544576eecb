package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/lib/dbtest"
)

func TestDevServesTheDemo(t *testing.T) {
	checkGoroutines(t)
	t.Chdir(t.TempDir())
	cmd := startCommand(t, map[string]string{"DATABASE_URL": dbtest.NewDatabase(t), "PUSHER_KEY": testPusherKey}, devArgs...)
	client := newClient(t)
	waitHealthy(t, client, cmd.addrs.App)

	page, contentType := getBody(t, client, cmd.addrs.App+"/", http.StatusOK)
	if !strings.HasPrefix(contentType, "text/html") || !strings.Contains(page, `src="/demo/demo.js"`) {
		t.Errorf("/ is %q, not the demo page:\n%s", contentType, page)
	}
	for _, asset := range []string{"/demo/demo.js", "/demo/demo.css"} {
		if body, _ := getBody(t, client, cmd.addrs.App+asset, http.StatusOK); body == "" {
			t.Errorf("%s is empty", asset)
		}
	}
	// chatwire's own routes are still served, and still answer JSON 404s.
	if _, contentType := getBody(t, client, cmd.addrs.App+"/api/no-such-route", http.StatusNotFound); !strings.HasPrefix(contentType, "application/json") {
		t.Errorf("unknown API route answers %q, want JSON", contentType)
	}

	var config struct {
		Pusher struct {
			Key     string
			Host    string
			Port    int
			Running bool
		}
		Users []struct{ ID, Name string }
		Room  struct{ ID, Name string }
	}
	raw, _ := getBody(t, client, cmd.addrs.App+"/demo/config.json", http.StatusOK)
	if err := json.Unmarshal([]byte(raw), &config); err != nil {
		t.Fatal(err)
	}
	_, pusherPort, _ := net.SplitHostPort(cmd.addrs.Pusher)
	if got, want := config.Pusher.Key+" "+config.Pusher.Host+":"+strconv.Itoa(config.Pusher.Port), testPusherKey+" "+cmd.addrs.Pusher; got != want {
		t.Errorf("pusher = %q, want %q (port %s)", got, want, pusherPort)
	}
	if !config.Pusher.Running || len(config.Users) != 3 || config.Room.ID == "" {
		t.Errorf("config = %+v, want a running Pusher server, 3 users and a room", config)
	}

	// A demo token works on the API, and every demo user is in the room.
	status, answer := postJSON(t, client, cmd.addrs.App+"/demo/token", "", `{"user":"carol"}`)
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, answer)
	}
	token, _ := answer["token"].(string)
	rooms, _ := getAuthorized(t, client, cmd.addrs.App+"/api/rooms", token)
	if !strings.Contains(rooms, `"id":"`+config.Room.ID+`"`) || !strings.Contains(rooms, `"member":true`) {
		t.Errorf("carol's rooms lack the demo room %s as a member:\n%s", config.Room.ID, rooms)
	}
	if status, answer := postJSON(t, client, cmd.addrs.App+"/demo/token", "", `{"user":"mallory"}`); status != http.StatusBadRequest {
		t.Errorf("token for a stranger: %d %v, want 400", status, answer)
	}
	// A plain form post, which a foreign page could make without a preflight, is refused.
	if status, answer := postJSON(t, client, cmd.addrs.App+"/demo/token", "text/plain", `{"user":"alice"}`); status != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain token request: %d %v, want 415", status, answer)
	}

	// The outage switch stops the Pusher server and starts it again.
	if status, answer := postJSON(t, client, cmd.addrs.App+"/demo/pusher", "", `{"running":false}`); status != http.StatusOK || answer["running"] != false {
		t.Fatalf("stop Pusher: %d %v", status, answer)
	}
	requireClosed(t, cmd.addrs.Pusher)
	if got := waitHealthy(t, client, cmd.addrs.App); got.Pusher != "error" {
		t.Errorf("health with Pusher stopped = %+v, want pusher error", got)
	}
	if status, answer := postJSON(t, client, cmd.addrs.App+"/demo/pusher", "", `{"running":true}`); status != http.StatusOK || answer["running"] != true {
		t.Fatalf("start Pusher: %d %v", status, answer)
	}
	if got := waitHealthy(t, client, cmd.addrs.App); got.Pusher != "ok" {
		t.Errorf("health with Pusher started again = %+v, want pusher ok", got)
	}
	cmd.stopCleanly(t)
}

// TestServeHasNoDemo: the demo hands out tokens to anyone, so only dev may
// serve it; serve (and Vercel, whose routes are api/) must not.
func TestServeHasNoDemo(t *testing.T) {
	checkGoroutines(t)
	env := map[string]string{
		"DATABASE_URL":      dbtest.NewDatabase(t),
		"REALTIME_DISABLED": "true",
		"AUTH_JWT_SECRET":   testSecret,
	}
	cmd := startCommand(t, env, "serve", "--addr", "127.0.0.1:0")
	client := newClient(t)
	waitHealthy(t, client, cmd.addrs.App)
	for _, path := range []string{"/", "/demo/demo.js", "/demo/config.json"} {
		getBody(t, client, cmd.addrs.App+path, http.StatusNotFound)
	}
	for _, path := range []string{"/demo/token", "/demo/pusher"} {
		if status, answer := postJSON(t, client, cmd.addrs.App+path, "", `{"user":"alice","running":false}`); status != http.StatusNotFound {
			t.Errorf("serve POST %s: %d %v, want 404", path, status, answer)
		}
	}
	cmd.stopCleanly(t)
}

// getBody GETs url, checks the status and returns the body and its type.
func getBody(t *testing.T, client *http.Client, url string, wantStatus int) (body, contentType string) {
	t.Helper()
	return getAuthorizedStatus(t, client, url, "", wantStatus)
}

func getAuthorized(t *testing.T, client *http.Client, url, token string) (body, contentType string) {
	t.Helper()
	return getAuthorizedStatus(t, client, url, token, http.StatusOK)
}

func getAuthorizedStatus(t *testing.T, client *http.Client, url, token string, wantStatus int) (body, contentType string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("GET %s: status %d, want %d: %s", url, resp.StatusCode, wantStatus, raw)
	}
	return string(raw), resp.Header.Get("Content-Type")
}

// postJSON posts body as contentType (application/json when empty) and
// returns the status and the decoded answer, nil when it is not JSON.
func postJSON(t *testing.T, client *http.Client, url, contentType, body string) (int, map[string]any) {
	t.Helper()
	if contentType == "" {
		contentType = "application/json"
	}
	resp, err := client.Post(url, contentType, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&answer)
	return resp.StatusCode, answer
}

// The page tells pusher-js to connect to the host the browser reached dev
// by, so the demo also works through "localhost" or from another machine.
func TestDemoPusherHost(t *testing.T) {
	tests := []struct{ pusherAddr, pageHost, want string }{
		{"127.0.0.1:6001", "127.0.0.1:3000", "127.0.0.1:6001"},
		{"127.0.0.1:6001", "localhost:3000", "localhost:6001"},
		{"127.0.0.1:6001", "192.168.1.20:3000", "192.168.1.20:6001"},
		{"127.0.0.1:6001", "[::1]:3000", "[::1]:6001"},
		{"127.0.0.1:6001", "chat.test", "chat.test:6001"},
		{"10.0.0.5:6001", "localhost:3000", "10.0.0.5:6001"}, // bound to one address: only that one works
	}
	for _, tt := range tests {
		d := &demo{pusher: &devPusher{addr: tt.pusherAddr}}
		r, err := http.NewRequest(http.MethodGet, "http://"+tt.pageHost+"/demo/config.json", nil)
		if err != nil {
			t.Fatal(err)
		}
		host, port := d.pusherHostPort(r)
		if got := host + ":" + strconv.Itoa(port); got != tt.want {
			t.Errorf("Pusher at %s, page at %s: pusher-js gets %s, want %s", tt.pusherAddr, tt.pageHost, got, tt.want)
		}
	}
}

// The demo hands a token for any user to whoever asks, so it answers only
// clients on this machine, whatever address dev listens on.
func TestDemoAnswersOnlyLoopbackClients(t *testing.T) {
	reached := false
	h := loopbackOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true }))
	for remote, want := range map[string]int{
		"127.0.0.1:5000":        http.StatusOK,
		"127.8.9.10:5000":       http.StatusOK,
		"[::1]:5000":            http.StatusOK,
		"[::ffff:127.0.0.1]:50": http.StatusOK,
		"192.168.1.20:5000":     http.StatusForbidden,
		"[2001:db8::1]:5000":    http.StatusForbidden,
		"[::ffff:10.0.0.1]:50":  http.StatusForbidden,
		"garbage":               http.StatusForbidden,
	} {
		reached = false
		req := httptest.NewRequest("POST", "/demo/token", strings.NewReader(`{"user":"alice"}`))
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want || reached != (want == http.StatusOK) {
			t.Errorf("from %s: %d (handler reached %v), want %d", remote, rec.Code, reached, want)
		}
	}
}

// dev and pusher listen on this machine only unless told otherwise.
func TestDevAndPusherListenOnLoopbackByDefault(t *testing.T) {
	for _, args := range [][]string{{"dev", "-h"}, {"pusher", "-h"}} {
		var stdout strings.Builder
		if err := run(t.Context(), append([]string{"chatwire"}, args...), envFrom(nil), &stdout, &strings.Builder{}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stdout.String(), `(default ":`) || !strings.Contains(stdout.String(), `(default "127.0.0.1:`) {
			t.Errorf("chatwire %s: listen defaults are not loopback:\n%s", args[0], stdout.String())
		}
	}
}
