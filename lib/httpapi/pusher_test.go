package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/auth"
)

func TestChannelAuthorizationMatrix(t *testing.T) {
	a := newApp(t)
	cases := []struct {
		user, channel string
		status        int
	}{
		{"alice", "private-chat-alice-bob", 200},
		{"bob", "private-chat-alice-bob", 200},
		{"carol", "private-chat-alice-bob", 403},
		{"bob", "private-user-bob", 200},
		{"alice", "private-user-bob", 403},
		{"bob", "presence-user-bob", 200},
		{"alice", "presence-user-bob", 403},
		{"alice", "private-room-nowhere", 403},
		{"alice", "private-chat-bob-alice", 403}, // not the canonical order
		{"alice", "private-chat-alice-bob-carol", 403},
		{"alice", "presence-chat-alice-bob", 403},
		{"alice", "public-channel", 403},
		{"alice", "private-chat-alice-" + strings.Repeat("b", 160), 403},
	}
	for _, tc := range cases {
		t.Run(tc.user+" "+tc.channel, func(t *testing.T) {
			res := a.do("POST", "/api/pusher/auth", tc.user, url.Values{"socket_id": {"123.456"}, "channel_name": {tc.channel}}).expect(t, tc.status)
			if tc.status == 200 {
				if auth, _ := res.body["auth"].(string); !strings.HasPrefix(auth, pusherKey+":") {
					t.Errorf("auth = %q, want %q followed by a signature", auth, pusherKey+":")
				}
			} else if got := res.field("error", "code"); got != "forbidden" {
				t.Errorf("code = %v, want forbidden", got)
			}
		})
	}
}

func TestPresenceAuthCarriesTheUsersIdAndName(t *testing.T) {
	a := newApp(t)
	res := a.do("POST", "/api/pusher/auth", "bob", url.Values{"socket_id": {"1.2"}, "channel_name": {"presence-user-bob"}}).expect(t, http.StatusOK)
	var member struct {
		UserID string            `json:"user_id"`
		Info   map[string]string `json:"user_info"`
	}
	if err := json.Unmarshal([]byte(res.body["channel_data"].(string)), &member); err != nil {
		t.Fatalf("channel_data: %v", err)
	}
	if member.UserID != "bob" || member.Info["name"] != "Bob" {
		t.Errorf("channel_data = %+v, want bob / Bob", member)
	}
}

func TestSignedSubscriptionsAreAcceptedByThePusherServer(t *testing.T) {
	a := newApp(t)
	s := a.subscriber("bob")
	s.subscribe("private-chat-alice-bob")
	s.subscribe("presence-user-bob")
}

func TestPusherAuthRejectsMalformedRequests(t *testing.T) {
	a := newApp(t)
	a.do("POST", "/api/pusher/auth", "bob", url.Values{"socket_id": {"abc"}, "channel_name": {"private-user-bob"}}).expect(t, http.StatusBadRequest)
	a.do("POST", "/api/pusher/auth", "bob", url.Values{"socket_id": {"1.2"}}).expect(t, http.StatusBadRequest)
	a.do("POST", "/api/pusher/auth", "bob", map[string]any{"socket_id": "1.2", "channel_name": "private-user-bob"}).expect(t, http.StatusUnsupportedMediaType)
	a.do("POST", "/api/pusher/auth", "", url.Values{"socket_id": {"1.2"}, "channel_name": {"private-user-bob"}}).expect(t, http.StatusUnauthorized)
}

func TestCORSPreflightIsAnsweredForAllowedOrigins(t *testing.T) {
	a := newApp(t)
	// newApp sets no origins: a preflight gets no CORS headers.
	res := a.do("OPTIONS", "/api/messages/send", "", nil, "Origin", "https://app.example", "Access-Control-Request-Method", "POST")
	res.expect(t, http.StatusNoContent)
	if got := res.header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("Allow-Origin = %q for an origin nobody allowed", got)
	}
}

func TestCORSAllowsOnlyConfiguredOrigins(t *testing.T) {
	a := newApp(t, appOptions{corsOrigins: "https://app.example"})
	pre := a.do("OPTIONS", "/api/messages/send", "", nil, "Origin", "https://app.example", "Access-Control-Request-Method", "POST")
	pre.expect(t, http.StatusNoContent)
	if got, want := pre.header.Get("Access-Control-Allow-Origin"), "https://app.example"; got != want {
		t.Errorf("Allow-Origin = %q, want %q", got, want)
	}
	if got := pre.header.Get("Access-Control-Allow-Headers"); !strings.Contains(got, "Authorization") {
		t.Errorf("Allow-Headers = %q, want Authorization allowed", got)
	}
	if got := pre.header.Get("Access-Control-Allow-Methods"); !strings.Contains(got, "POST") {
		t.Errorf("Allow-Methods = %q, want POST", got)
	}
	res := a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "hi"}, "Origin", "https://app.example").expect(t, http.StatusCreated)
	if got := res.header.Get("Access-Control-Allow-Origin"); got != "https://app.example" {
		t.Errorf("actual request: Allow-Origin = %q", got)
	}
	other := a.do("OPTIONS", "/api/messages/send", "", nil, "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
	if got := other.header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("Allow-Origin = %q for an origin not configured", got)
	}
}

func TestLogsNeverContainTokensOrSecrets(t *testing.T) {
	a := newApp(t)
	a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "hi"}).expect(t, http.StatusCreated)
	a.do("POST", "/api/messages/send", "", map[string]any{"to": "bob", "body": "hi"}, "Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig").expect(t, http.StatusUnauthorized)
	a.do("POST", "/api/pusher/auth", "bob", url.Values{"socket_id": {"1.2"}, "channel_name": {"private-user-bob"}}).expect(t, http.StatusOK)
	_ = a.pusher.Close()
	a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "during outage"}).expect(t, http.StatusCreated)

	logs := a.logs.String()
	if !strings.Contains(logs, `"path":"/api/messages/send"`) {
		t.Fatalf("no access log lines captured: %s", logs)
	}
	for _, secret := range []string{jwtSecret, pusherSecret, token(t, "alice", "Alice")[:40], "eyJhbGciOiJIUzI1NiJ9", "auth_signature"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
}

func expiredToken(t *testing.T) string {
	t.Helper()
	tok, err := auth.SignHS256(jwtSecret, auth.User{ID: "alice"}, time.Minute, auth.WithIssuedAt(time.Now().Add(-time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
