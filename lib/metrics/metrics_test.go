package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/metrics"
	"github.com/chatwire/chatwire/lib/store"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// publishFunc adapts a function to chat.Publisher: the counting is under
// test here, not Pusher.
type publishFunc func(context.Context, []chat.Event) error

func (f publishFunc) Publish(ctx context.Context, events []chat.Event) error { return f(ctx, events) }

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func expectSeries(t *testing.T, text string, series ...string) {
	t.Helper()
	for _, s := range series {
		if !strings.Contains(text, s+"\n") {
			t.Errorf("no %q in:\n%s", s, text)
		}
	}
}

func TestPublishesAndRequestsAreCounted(t *testing.T) {
	m := metrics.New()
	ok := m.Publisher(metrics.SourceAPI, publishFunc(func(context.Context, []chat.Event) error { return nil }))
	failing := m.Publisher(metrics.SourceAPI, publishFunc(func(context.Context, []chat.Event) error { return errors.New("down") }))
	three := make([]chat.Event, 3)
	if err := ok.Publish(context.Background(), three); err != nil {
		t.Fatal(err)
	}
	if err := failing.Publish(context.Background(), three[:2]); err == nil {
		t.Fatal("the wrapper swallowed the error")
	}
	m.ObserveRequest("/api/messages/send", "POST", 201, 3*time.Millisecond)
	relay := m.Relay()
	relay.Published(4, time.Millisecond, nil)
	relay.Probed(time.Millisecond, 2*time.Second, true)
	expectSeries(t, scrape(t, m),
		`chatwire_events_published_total{source="api"} 3`,
		`chatwire_events_publish_failed_total{source="api"} 2`,
		`chatwire_events_published_total{source="relay"} 4`,
		`chatwire_publish_duration_seconds_count{source="api"} 2`,
		`chatwire_http_request_duration_seconds_count{code="201",method="POST",route="/api/messages/send"} 1`,
		`chatwire_relay_poll_duration_seconds_count 1`,
		`chatwire_relay_oldest_pending_age_seconds 2`,
	)
}

func TestBacklogIsReadFromTheDatabaseAtScrape(t *testing.T) {
	pool, _ := dbtest.NewPool(t)
	m := metrics.New()
	m.WatchBacklog(store.New(pool))
	expectSeries(t, scrape(t, m), `chatwire_events_pending 0`, `chatwire_oldest_pending_event_age_seconds 0`)
	if _, err := pool.Exec(context.Background(), `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('alice', 'bob', 'hi')`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(context.Background(), `UPDATE events SET created_at = created_at - interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
	text := scrape(t, m)
	expectSeries(t, text, `chatwire_events_pending 2`, `chatwire_backlog_read_errors_total 0`)
	if !strings.Contains(text, "chatwire_oldest_pending_event_age_seconds 36") { // 3600.x s
		t.Errorf("oldest age not about an hour:\n%s", text)
	}
}
