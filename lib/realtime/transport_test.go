package realtime_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/config"
	"github.com/chatwire/chatwire/lib/pusherlocal"
	"github.com/chatwire/chatwire/lib/realtime"
)

// Rounds of concurrent publishes reuse the connections of the first round:
// the default transport would keep 2 of them and dial the rest anew, about
// 16 + 5 × 14 = 86 connections here. A connection goes back to the idle pool
// just after its response is read, so a round may still dial a few while the
// last one's are on their way back: the bound is twice one round.
func TestPublishesReuseIdleConnections(t *testing.T) {
	cfg := config.Pusher{AppID: "1", Key: "transport-key", Secret: "transport-secret-0123456789"}
	srv, err := pusherlocal.New(pusherlocal.Config{AppID: cfg.AppID, Key: cfg.Key, Secret: cfg.Secret})
	if err != nil {
		t.Fatal(err)
	}
	var opened atomic.Int64
	web := httptest.NewUnstartedServer(srv)
	web.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			opened.Add(1)
		}
	}
	web.Start()
	t.Cleanup(web.Close)
	cfg.Host = strings.TrimPrefix(web.URL, "http://")
	p := realtime.New(cfg, nil)

	const concurrent, rounds = 16, 6
	for r := range rounds {
		var wg sync.WaitGroup
		errs := make(chan error, concurrent)
		for i := range concurrent {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				errs <- p.Publish(ctx, []chat.Event{{Seq: int64(r*concurrent + i), Channel: "private-user-b", Name: "x", Data: []byte(`{}`)}})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := opened.Load(); got > 2*concurrent {
		t.Errorf("%d rounds of %d concurrent publishes opened %d connections, want at most %d", rounds, concurrent, got, 2*concurrent)
	}
}
