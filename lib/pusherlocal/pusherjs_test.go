package pusherlocal_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pusher/pusher-http-go/v5"

	"github.com/chatwire/chatwire/lib/nodetest"
)

// TestPusherJSConformance runs e2e/pusherlocal.test.mjs (node --test, the
// real pusher-js from npm) against a server on a random port. It needs
// `npm ci --prefix e2e`; without it the test is skipped, or fails when CI is
// set.
func TestPusherJSConformance(t *testing.T) {
	srv := startServer(t, nil)
	client := apiClient(srv)
	auth := httptest.NewServer(channelAuthEndpoint(t, client))
	t.Cleanup(auth.Close)
	control := httptest.NewServer(controlEndpoint(t, client, srv.DropConnections))
	t.Cleanup(control.Close)

	host, port, err := net.SplitHostPort(srv.Addr())
	if err != nil {
		t.Fatalf("split %s: %v", srv.Addr(), err)
	}
	nodetest.Run(t, "pusherlocal.test.mjs", 50*time.Second,
		"PUSHER_HOST="+host,
		"PUSHER_PORT="+port,
		"PUSHER_KEY="+testKey,
		"AUTH_URL="+auth.URL+"/pusher/auth",
		"CONTROL_URL="+control.URL,
	)
}

// channelAuthEndpoint signs subscriptions with pusher-http-go, as
// /api/pusher/auth does, and refuses private-forbidden. The presence user id
// comes from the user_id form field, which the Node test sets as an auth
// param.
func channelAuthEndpoint(t *testing.T, client *pusher.Client) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		channel := r.PostForm.Get("channel_name")
		if channel == "private-forbidden" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		params := []byte(url.Values{"socket_id": {r.PostForm.Get("socket_id")}, "channel_name": {channel}}.Encode())
		var (
			body []byte
			err  error
		)
		if strings.HasPrefix(channel, "presence-") {
			body, err = client.AuthorizePresenceChannel(params, pusher.MemberData{
				UserID: r.PostForm.Get("user_id"), UserInfo: map[string]string{"name": r.PostForm.Get("user_id")},
			})
		} else {
			body, err = client.AuthorizePrivateChannel(params)
		}
		if err != nil {
			t.Errorf("authorize %s: %v", channel, err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
}

// controlEndpoint lets the Node test trigger events through pusher-http-go
// and drop every connection.
func controlEndpoint(t *testing.T, client *pusher.Client, drop func()) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /trigger", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Channel string          `json:"channel"`
			Event   string          `json:"event"`
			Data    json.RawMessage `json:"data"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := client.Trigger(req.Channel, req.Event, req.Data); err != nil {
			t.Errorf("trigger: %v", err)
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
	})
	mux.HandleFunc("POST /drop", func(w http.ResponseWriter, r *http.Request) { drop() })
	return mux
}
