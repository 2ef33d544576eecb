package pusherlocal_test

import (
	"context"
	"encoding/json"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"
)

const fanoutConnections = 1000

// BenchmarkFanout1000 holds 1,000 WebSocket connections on one channel and
// triggers one event per iteration through the HTTP API (pusher-http-go),
// timing each delivery from just before the trigger call to its arrival at
// each client. Run it with:
//
//	go test -run '^$' -bench BenchmarkFanout1000 -benchtime 200x ./lib/pusherlocal/
//
// The clients live in the same process, so the memory per connection counts
// both ends (server connection and test client).
func BenchmarkFanout1000(b *testing.B) {
	srv := startServer(b, nil)
	client := apiClient(srv)

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	latencies := make(chan time.Duration, fanoutConnections)
	conns := make([]*websocket.Conn, 0, fanoutConnections)
	b.Cleanup(func() {
		for _, c := range conns {
			c.CloseNow()
		}
	})
	for i := 0; i < fanoutConnections; i++ {
		conns = append(conns, dialSubscribed(b, srv.Addr(), "fanout", latencies))
	}

	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	inUse := func(m runtime.MemStats) float64 { return float64(m.HeapAlloc + m.StackInuse) }
	bytesPerConn := (inUse(after) - inUse(before)) / fanoutConnections

	all := make([]time.Duration, 0, b.N*fanoutConnections)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sent := strconv.FormatInt(time.Now().UnixNano(), 10)
		if err := client.Trigger("fanout", "tick", sent); err != nil {
			b.Fatalf("Trigger: %v", err)
		}
		for j := 0; j < fanoutConnections; j++ {
			select {
			case d := <-latencies:
				all = append(all, d)
			case <-time.After(10 * time.Second):
				b.Fatalf("iteration %d: %d of %d deliveries arrived", i, j, fanoutConnections)
			}
		}
	}
	b.StopTimer()

	slices.Sort(all)
	percentile := func(p float64) float64 {
		return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(percentile(0.50), "p50-ms")
	b.ReportMetric(percentile(0.99), "p99-ms")
	b.ReportMetric(bytesPerConn, "B/conn")
}

// dialSubscribed connects one client, subscribes it to channel and starts a
// reader that reports each event's delivery latency (its data is the send
// time in unix nanoseconds).
func dialSubscribed(b *testing.B, addr, channel string, latencies chan<- time.Duration) *websocket.Conn {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws://"+addr+"/app/"+testKey+"?protocol=7", nil)
	if err != nil {
		b.Fatalf("dial: %v", err)
	}
	read := func() frame {
		_, msg, err := conn.Read(ctx)
		if err != nil {
			b.Fatalf("read: %v", err)
		}
		var f frame
		if err := json.Unmarshal(msg, &f); err != nil {
			b.Fatalf("decode %q: %v", msg, err)
		}
		return f
	}
	if f := read(); f.Event != "pusher:connection_established" {
		b.Fatalf("got %s, want connection_established", f.Event)
	}
	sub, _ := json.Marshal(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": channel}})
	if err := conn.Write(ctx, websocket.MessageText, sub); err != nil {
		b.Fatalf("subscribe: %v", err)
	}
	if f := read(); f.Event != "pusher_internal:subscription_succeeded" {
		b.Fatalf("got %s, want subscription_succeeded", f.Event)
	}
	go func() {
		for {
			_, msg, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			var f struct {
				Event string `json:"event"`
				Data  string `json:"data"`
			}
			if json.Unmarshal(msg, &f) != nil || f.Event != "tick" {
				continue
			}
			sent, err := strconv.ParseInt(f.Data, 10, 64)
			if err != nil {
				continue
			}
			latencies <- time.Since(time.Unix(0, sent))
		}
	}()
	return conn
}
