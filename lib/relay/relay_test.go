package relay_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/relay"
	"github.com/chatwire/chatwire/lib/store"
)

// A legacy writer's rows, with no database webhook and no cron, reach the
// clients through the relay alone, once each and in order.
func TestLegacyRowsArriveThroughTheRelayAlone(t *testing.T) {
	h := newHarness(t)
	bob := h.subscriber("private-chat-alice-bob", "private-user-bob")
	r, _ := h.startRelay(relay.Options{})
	want := map[string][]string{}
	sent := time.Now()
	for i := range 5 {
		want["private-chat-alice-bob"] = append(want["private-chat-alice-bob"], h.legacyMessage("alice", "bob", fmt.Sprint("legacy ", i)))
	}
	bob.waitForMessages(30*time.Second, want)
	t.Logf("5 legacy rows delivered %v after the first commit (not asserted: see BENCHMARKS.md)", time.Since(sent))
	waitFor(t, 30*time.Second, "nothing pending", func() bool { return h.pending() == 0 })
	if got, want := r.Published(), int64(10); got != want {
		t.Errorf("relay published %d events, want %d (5 new-message, 5 message-notification)", got, want)
	}
}

// A sender publishes its own events and acknowledges them within the grace
// period: the relay publishes none of them again.
func TestTheRelayLeavesSendersTheirOwnEvents(t *testing.T) {
	h := newHarness(t)
	bob := h.subscriber("private-chat-alice-bob")
	pool, err := store.Open(context.Background(), h.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	svc := chat.NewService(store.New(pool), h.api, h.logger(), chat.Options{})
	// A grace period no send outlasts, so the count below is exact on any
	// machine; BENCHMARKS.md measures the duplicate rate at the default.
	r, stop := h.startRelay(relay.Options{Grace: 20 * time.Second})
	var ids []string
	for i := range 20 {
		res, err := svc.Send(context.Background(), user("alice"), chat.SendInput{To: "bob", Body: fmt.Sprint("sent ", i)})
		if err != nil || !res.Published {
			t.Fatalf("send: %+v, %v", res, err)
		}
		ids = append(ids, res.Message.ID)
	}
	bob.waitForMessages(30*time.Second, map[string][]string{"private-chat-alice-bob": ids})
	if got := h.pending(); got != 0 {
		t.Errorf("%d events pending after the sends answered, want 0", got)
	}
	stop()
	if got := r.Published(); got != 0 {
		t.Errorf("the relay published %d events its senders had published", got)
	}
}

// Pusher's HTTP API fails for a while (503, 429, or no answer at all) while
// the clients stay connected: messages sent meanwhile, through the API and by
// a legacy writer, all arrive once Pusher recovers, each once and in order,
// and the connections never dropped.
func TestPusherOutagesEndWithEveryMessageDeliveredOnce(t *testing.T) {
	for _, mode := range []faultMode{answer503, answer429, refuse} {
		t.Run(string(mode), func(t *testing.T) {
			h := newHarness(t)
			bob := h.subscriber("private-chat-alice-bob", "private-chat-bob-carol")
			pool, err := store.Open(context.Background(), h.dbURL)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			svc := chat.NewService(store.New(pool), h.api, h.logger(), chat.Options{})
			// Short backoff windows stand for a long outage: what matters
			// is that the relay reached its longest backoff before Pusher
			// came back.
			opts := relay.Options{Grace: 50 * time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
			r, _ := h.startRelay(opts)

			h.faults.set(mode)
			want := map[string][]string{}
			for i := range 4 {
				res, err := svc.Send(context.Background(), user("alice"), chat.SendInput{To: "bob", Body: fmt.Sprint("during ", i)})
				if err != nil || res.Published {
					t.Fatalf("send during the outage: %+v, %v; want stored, not published", res, err)
				}
				want["private-chat-alice-bob"] = append(want["private-chat-alice-bob"], res.Message.ID)
				want["private-chat-bob-carol"] = append(want["private-chat-bob-carol"], h.legacyMessage("carol", "bob", fmt.Sprint("legacy ", i)))
			}
			// Enough failed attempts that the backoff is at its ceiling.
			waitFor(t, 60*time.Second, "the relay to retry several times", func() bool { return h.faults.calls.Load() >= 12 })
			if r.Healthy() {
				t.Errorf("relay healthy during the outage")
			}
			if got := bob.messages(); len(got) != 0 {
				t.Fatalf("received %v during the outage", got)
			}
			h.faults.set(passThrough)
			recovered := time.Now()
			bob.waitForMessages(30*time.Second, want)
			t.Logf("delivered %v after recovery (the relay's ceiling: %v)", time.Since(recovered), opts.MaxBackoff)
			if !bob.connected() {
				t.Errorf("the client's connection dropped")
			}
			waitFor(t, 30*time.Second, "nothing pending", func() bool { return h.pending() == 0 })
			waitFor(t, 10*time.Second, "the relay healthy again", r.Healthy)
		})
	}
}

// Two and three relays race over one backlog: each event is published by
// exactly one of them, and each channel's events arrive in order.
func TestRelaysRacingPublishEachEventOnce(t *testing.T) {
	for _, relays := range []int{2, 3} {
		t.Run(fmt.Sprint(relays, " relays"), func(t *testing.T) {
			h := newHarness(t)
			senders := []string{"ann", "ben", "cat", "dan"}
			var channels []string
			for _, s := range senders {
				channels = append(channels, chat.ChatChannel(s, "bob"))
			}
			bob := h.subscriber(channels...)
			// The backlog builds while Pusher is down, then every relay
			// meets it at once.
			h.faults.set(answer503)
			var rs []*relay.Relay
			for range relays {
				r, _ := h.startRelay(relay.Options{Grace: time.Millisecond, Batch: 7, MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
				rs = append(rs, r)
			}
			want := map[string][]string{}
			for i := range 120 {
				s := senders[i%len(senders)]
				ch := chat.ChatChannel(s, "bob")
				want[ch] = append(want[ch], h.legacyMessage(s, "bob", fmt.Sprint(i)))
			}
			h.faults.set(passThrough)
			bob.waitForMessages(60*time.Second, want)
			waitFor(t, 30*time.Second, "nothing pending", func() bool { return h.pending() == 0 })
			var total int64
			for i, r := range rs {
				t.Logf("relay %d published %d events", i, r.Published())
				total += r.Published()
			}
			if want := int64(240); total != want {
				t.Errorf("the relays published %d events in all, want %d (each once)", total, want)
			}
		})
	}
}

// SIGTERM (the context ending) in the middle of a batch: the batch finishes
// before Run returns, and nothing is left pending or published twice.
func TestStopFinishesTheBatchInFlight(t *testing.T) {
	h := newHarness(t)
	bob := h.subscriber("private-chat-alice-bob")
	h.faults.set(stall)
	r, stop := h.startRelay(relay.Options{Grace: time.Millisecond})
	id := h.legacyMessage("alice", "bob", "in flight")
	waitFor(t, 30*time.Second, "the relay to be mid-batch", func() bool { return h.faults.stalled.Load() > 0 })
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("Run returned with a batch in flight")
	case <-time.After(200 * time.Millisecond):
	}
	h.faults.set(passThrough)
	<-stopped
	bob.waitForMessages(30*time.Second, map[string][]string{"private-chat-alice-bob": {id}})
	if got := h.pending(); got != 0 {
		t.Errorf("%d pending after the stop, want 0", got)
	}
	if got := r.Published(); got != 2 {
		t.Errorf("published %d, want 2", got)
	}
}

func TestBackoffDoublesUpToItsCeilingWithJitter(t *testing.T) {
	lo, hi := 100*time.Millisecond, 2*time.Second
	for n := 1; n <= 40; n++ {
		for _, j := range []float64{0, 0.5, 0.999} {
			d := relay.Backoff(n, lo, hi, j)
			if d < lo/2 || d > hi {
				t.Errorf("Backoff(%d, jitter %v) = %v, want within [%v, %v]", n, j, d, lo/2, hi)
			}
		}
	}
	if got, want := relay.Backoff(1, lo, hi, 0), 50*time.Millisecond; got != want {
		t.Errorf("first backoff = %v, want %v", got, want)
	}
	if got, want := relay.Backoff(3, lo, hi, 0.999), 400*time.Millisecond; got < want*99/100 || got > want {
		t.Errorf("third backoff at most jitter = %v, want about %v", got, want)
	}
	if got, want := relay.Backoff(30, lo, hi, 0), time.Second; got != want {
		t.Errorf("backoff at the ceiling, least jitter = %v, want %v", got, want)
	}
}
