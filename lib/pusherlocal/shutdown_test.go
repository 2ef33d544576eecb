package pusherlocal_test

import (
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pusher/pusher-http-go/v5"

	"github.com/chatwire/chatwire/lib/pusherlocal"
)

func TestCloseEndsEveryGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()

	receiver, url := startWebhookReceiver(t, 0)
	transport := &http.Transport{}
	srv, err := pusherlocal.New(pusherlocal.Config{
		AppID: testAppID, Key: testKey, Secret: testSecret,
		WebhookURL:         url,
		MemberRemovedDelay: time.Hour, // still pending at Close
		HTTPClient:         &http.Client{Timeout: time.Second, Transport: transport},
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("Start: %v", err)
	}
	client := apiClient(srv)
	var sockets []*socket
	for _, user := range []string{"a", "b", "c"} {
		s := dial(t, srv)
		s.subscribeAuthorized(t, client, "presence-x", &pusher.MemberData{UserID: user})
		sockets = append(sockets, s)
	}
	receiver.expect(t, "channel_occupied presence-x")
	sockets[0].conn.Close(websocket.StatusNormalClosure, "") // leaves a delayed member_removed

	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, s := range sockets {
		s.expectClosed(t)
	}
	receiver.server.Close()
	transport.CloseIdleConnections()
	client.HTTPClient.CloseIdleConnections()

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got, want := runtime.NumGoroutine(), before; got > want {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after Close, want at most %d:\n%s", got, want, buf[:runtime.Stack(buf, true)])
	}
}

func TestClosedServerRefusesNewConnections(t *testing.T) {
	srv := startServer(t, nil)
	addr := srv.Addr()
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := http.Get("http://" + addr + "/"); err == nil {
		t.Fatalf("server still answers after Close")
	}
}

func TestNewRequiresCredentials(t *testing.T) {
	if _, err := pusherlocal.New(pusherlocal.Config{AppID: "a", Key: "k"}); err == nil {
		t.Fatalf("New without Secret succeeded")
	}
	if _, err := pusherlocal.New(pusherlocal.Config{AppID: "a", Key: "k", Secret: "s", WebhookURL: "not a url"}); err == nil {
		t.Fatalf("New with an invalid WebhookURL succeeded")
	}
}
