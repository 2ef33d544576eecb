package httpapi_test

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/nodetest"
)

// TestClientPackage runs client/test/integration.test.mjs: the browser client
// @chatwire/client, with the real pusher-js, against chatwire on a fresh
// database and a local Pusher-protocol server. It needs client/dist (committed)
// and client/node_modules (npm ci --prefix client).
func TestClientPackage(t *testing.T) {
	if _, err := os.Stat(filepath.Join("..", "..", "client", "node_modules", "pusher-js")); err != nil {
		msg := "client/node_modules/pusher-js missing; run npm ci --prefix client"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	a := newApp(t)
	host, port, err := net.SplitHostPort(a.pusher.Addr())
	if err != nil {
		t.Fatal(err)
	}
	// nodetest runs node in e2e/; the script resolves its imports from client/.
	nodetest.Run(t, filepath.Join("..", "client", "test", "integration.test.mjs"), 90*time.Second,
		"APP_URL="+a.url,
		"PUSHER_HOST="+host,
		"PUSHER_PORT="+port,
		"PUSHER_KEY="+pusherKey,
		"TOKEN_ALICE="+token(t, "alice", "Alice"),
		"TOKEN_BOB="+token(t, "bob", "Bob"),
	)
}
