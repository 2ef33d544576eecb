package pusherlocal_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pusher/pusher-http-go/v5"

	"github.com/chatwire/chatwire/lib/pusherlocal"
)

// webhookReceiver validates webhooks with pusher-http-go, as the app does,
// and records the events in order. failFirst makes it answer 500 that many
// times before accepting.
type webhookReceiver struct {
	t         *testing.T
	client    *pusher.Client
	mu        sync.Mutex
	failFirst int
	attempts  int
	events    chan string
	server    *httptest.Server
}

func startWebhookReceiver(t *testing.T, failFirst int) (*webhookReceiver, string) {
	r := &webhookReceiver{
		t:         t,
		client:    &pusher.Client{AppID: testAppID, Key: testKey, Secret: testSecret},
		failFirst: failFirst,
		events:    make(chan string, 100),
	}
	r.server = httptest.NewServer(r)
	t.Cleanup(r.server.Close)
	return r, r.server.URL + "/webhook"
}

func (r *webhookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.attempts++
	fail := r.attempts <= r.failFirst
	r.mu.Unlock()
	if fail {
		http.Error(w, "temporarily broken", http.StatusInternalServerError)
		return
	}
	hook, err := r.client.Webhook(req.Header, body)
	if err != nil {
		r.t.Errorf("pusher-http-go rejected the webhook %s: %v", body, err)
		http.Error(w, "invalid", http.StatusUnauthorized)
		return
	}
	if hook.TimeMs == 0 {
		r.t.Errorf("webhook without time_ms: %s", body)
	}
	for _, e := range hook.Events {
		if e.UserID != "" {
			r.events <- fmt.Sprintf("%s %s %s", e.Name, e.Channel, e.UserID)
		} else {
			r.events <- fmt.Sprintf("%s %s", e.Name, e.Channel)
		}
	}
}

func (r *webhookReceiver) expect(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		select {
		case got := <-r.events:
			if got != w {
				t.Fatalf("webhook %q, want %q", got, w)
			}
		case <-time.After(waitFor):
			t.Fatalf("no webhook %q within %s", w, waitFor)
		}
	}
}

func (r *webhookReceiver) expectNothing(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case got := <-r.events:
		t.Fatalf("unexpected webhook %q", got)
	case <-time.After(d):
	}
}

func TestWebhooksReportOccupiedAndVacatedChannels(t *testing.T) {
	receiver, url := startWebhookReceiver(t, 0)
	srv := startServer(t, func(c *pusherlocal.Config) { c.WebhookURL = url })

	s := dial(t, srv)
	s.subscribe(t, "news", "", "")
	receiver.expect(t, "channel_occupied news")
	dial(t, srv).subscribe(t, "news", "", "")
	receiver.expectNothing(t, 100*time.Millisecond)

	s.conn.Close(websocket.StatusNormalClosure, "")
	receiver.expectNothing(t, 100*time.Millisecond) // one subscriber is left
	srv.DropConnections()
	receiver.expect(t, "channel_vacated news")
}

func TestWebhookMemberRemovedIsDelayedAndCancelledByARejoin(t *testing.T) {
	// The reload below (a dial and an authorized subscribe) must land within
	// the delay: a second leaves it room on a loaded machine.
	const delay = time.Second
	receiver, url := startWebhookReceiver(t, 0)
	srv := startServer(t, func(c *pusherlocal.Config) {
		c.WebhookURL = url
		c.MemberRemovedDelay = delay
	})
	client := apiClient(srv)
	ana := &pusher.MemberData{UserID: "ana"}

	tab := dial(t, srv)
	tab.subscribeAuthorized(t, client, "presence-user-ana", ana)
	receiver.expect(t, "channel_occupied presence-user-ana", "member_added presence-user-ana ana")

	// A reload: the old tab goes, a new one comes back within the delay.
	tab.conn.Close(websocket.StatusNormalClosure, "")
	time.Sleep(delay / 10)
	reloaded := dial(t, srv)
	reloaded.subscribeAuthorized(t, client, "presence-user-ana", ana)
	receiver.expectNothing(t, 2*delay)

	// Leaving for good is reported after the delay, then the vacated channel.
	left := time.Now()
	reloaded.conn.Close(websocket.StatusNormalClosure, "")
	receiver.expect(t, "member_removed presence-user-ana ana", "channel_vacated presence-user-ana")
	if elapsed := time.Since(left); elapsed < delay {
		t.Fatalf("member_removed after %s, want at least the %s delay", elapsed, delay)
	}
}

func TestWebhooksAreRetriedWhenTheReceiverFails(t *testing.T) {
	receiver, url := startWebhookReceiver(t, 2)
	srv := startServer(t, func(c *pusherlocal.Config) { c.WebhookURL = url })

	dial(t, srv).subscribe(t, "retry-me", "", "")
	receiver.expect(t, "channel_occupied retry-me")
	receiver.mu.Lock()
	defer receiver.mu.Unlock()
	if got, want := receiver.attempts, 3; got != want {
		t.Fatalf("attempts = %d, want %d", got, want)
	}
}
