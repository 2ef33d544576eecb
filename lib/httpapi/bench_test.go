package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

// The benchmarks measure whole HTTP requests against the real Postgres and
// the local Pusher-protocol server, and report latency percentiles next to
// ns/op. BENCHMARKS.md has the command and the figures.

// latencies collects one duration per iteration and reports p50 and p99.
type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	at := func(q float64) float64 {
		return float64(l[min(len(l)-1, int(q*float64(len(l))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// BenchmarkSend is one send: a JWT check, the rate-limit check, one database
// round trip, one Pusher call and the mark-published update. Senders rotate
// over 1,000 users so the default per-user rate limit (which the send path
// includes) is never hit.
func BenchmarkSend(b *testing.B) {
	a := newApp(b)
	body := map[string]any{"to": "bob", "body": "benchmark message of a typical length, about sixty characters"}
	var lat latencies
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		sender := fmt.Sprintf("user%d", i%1000)
		start := time.Now()
		res := a.do("POST", "/api/messages/send", sender, body)
		lat = append(lat, time.Since(start))
		if res.status != http.StatusCreated || res.field("published") != true {
			b.Fatalf("send: %d %s", res.status, res.raw)
		}
	}
	lat.report(b)
}

// seed stores n messages spread over about 1,000 chats, a tenth of them
// between alice and bob, with their events (the triggers write them).
func seed(b *testing.B, a *app, n int) {
	b.Helper()
	_, err := a.pool.Exec(b.Context(), `
		INSERT INTO messages (sender_id, receiver_id, body, created_at)
		SELECT CASE WHEN i % 10 = 0 THEN 'alice' ELSE 'user' || (i % 1000) END,
		       CASE WHEN i % 10 = 0 THEN 'bob' ELSE 'peer' || (i % 997) END,
		       'seeded message ' || i,
		       now() - make_interval(secs => $1 - i)
		FROM generate_series(1, $1::int) AS i`, n)
	if err != nil {
		b.Fatalf("seed: %v", err)
	}
	if _, err := a.pool.Exec(b.Context(), `ANALYZE`); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPoll100k polls after each new message with 100,000 messages (and
// their 200,000 events) stored.
func BenchmarkPoll100k(b *testing.B) {
	a := newApp(b, appOptions{realtimeDisabled: true})
	seed(b, a, 100_000)
	cursor := a.do("GET", "/api/messages/poll", "bob", nil).field("cursor").(string)
	var lat latencies
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "live"})
		b.StartTimer()
		start := time.Now()
		res := a.do("GET", "/api/messages/poll?cursor="+cursor, "bob", nil)
		lat = append(lat, time.Since(start))
		if res.status != http.StatusOK {
			b.Fatalf("poll: %d %s", res.status, res.raw)
		}
		cursor = res.field("cursor").(string)
	}
	lat.report(b)
}

// BenchmarkHistory100k pages backwards, 50 at a time, through the 10,000
// messages of one chat among 100,000 stored.
func BenchmarkHistory100k(b *testing.B) {
	a := newApp(b, appOptions{realtimeDisabled: true})
	seed(b, a, 100_000)
	var lat latencies
	before := ""
	b.ReportAllocs()
	for b.Loop() {
		path := "/api/messages/history?with=alice&limit=50"
		if before != "" {
			path += "&before=" + before
		}
		start := time.Now()
		res := a.do("GET", path, "bob", nil)
		lat = append(lat, time.Since(start))
		if res.status != http.StatusOK {
			b.Fatalf("history: %d %s", res.status, res.raw)
		}
		before, _ = res.field("next_before").(string)
	}
	lat.report(b)
}
