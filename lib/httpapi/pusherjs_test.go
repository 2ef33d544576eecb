package httpapi_test

import (
	"net"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/nodetest"
)

// TestPusherJSEndToEnd runs e2e/chat.test.mjs: the real pusher-js signs in
// through /api/pusher/auth, subscribes to a chat and receives a message sent
// through /api/messages/send, while a third user is refused.
func TestPusherJSEndToEnd(t *testing.T) {
	a := newApp(t)
	host, port, err := net.SplitHostPort(a.pusher.Addr())
	if err != nil {
		t.Fatal(err)
	}
	nodetest.Run(t, "chat.test.mjs", 60*time.Second,
		"APP_URL="+a.url,
		"PUSHER_HOST="+host,
		"PUSHER_PORT="+port,
		"PUSHER_KEY="+pusherKey,
		"TOKEN_ALICE="+token(t, "alice", "Alice"),
		"TOKEN_BOB="+token(t, "bob", "Bob"),
		"TOKEN_CAROL="+token(t, "carol", "Carol"),
	)
}
