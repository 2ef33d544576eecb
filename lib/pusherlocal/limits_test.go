package pusherlocal_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatwire/chatwire/lib/pusherlocal"
)

// One connection over the quota is refused as Pusher refuses an app over its
// plan: pusher:error 4004 and a close with 4004. A slot freed is usable again.
func TestConnectionsOverTheQuotaAreRefusedWith4004(t *testing.T) {
	srv := startServer(t, func(c *pusherlocal.Config) { c.MaxConnections = 2 })
	first := dial(t, srv)
	dial(t, srv)

	over := dialRaw(t, srv, "/app/"+testKey+"?protocol=7&client=js&version=8.6.0")
	if e := over.expectError(t); e.Code == nil || *e.Code != 4004 {
		t.Fatalf("pusher:error = %+v, want code 4004", e)
	}
	if got, want := over.expectClosed(t), websocket.StatusCode(4004); got != want {
		t.Fatalf("close status = %d, want %d", got, want)
	}

	// The server drops a closed connection when its reader ends; until then
	// the slot is still taken, so try again until it is free.
	first.conn.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := dialRaw(t, srv, "/app/"+testKey+"?protocol=7&client=js&version=8.6.0")
		if s.next(t).Event == "pusher:connection_established" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no connection accepted after one of the two closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A connection may hold MaxChannelsPerConnection channels; one more is
// refused on that channel only, and the connection keeps working.
func TestChannelsPerConnectionAreCapped(t *testing.T) {
	srv := startServer(t, func(c *pusherlocal.Config) { c.MaxChannelsPerConnection = 3 })
	s := dial(t, srv)
	for i := range 3 {
		s.subscribe(t, fmt.Sprintf("public-%d", i), "", "")
	}
	s.sendSubscribe(t, "public-3", "", "")
	f := s.expect(t, "pusher:subscription_error")
	var data struct {
		Type   string `json:"type"`
		Status int    `json:"status"`
	}
	if err := json.Unmarshal(f.Data, &data); err != nil {
		t.Fatal(err)
	}
	if f.Channel != "public-3" || data.Type != "LimitReached" || data.Status != 4004 {
		t.Fatalf("subscription_error = %s %s, want LimitReached 4004 on public-3", f.Channel, f.Data)
	}
	s.alive(t)
	// Leaving one makes room for another.
	s.send(t, map[string]any{"event": "pusher:unsubscribe", "data": map[string]string{"channel": "public-0"}})
	s.subscribe(t, "public-3", "", "")
}
