// Package relay is chatwire's long-running publisher of the event log: it
// publishes every event nobody else published (a legacy writer's rows, a
// failed publish, a function that died after its commit), within a second of
// commit in steady state.
//
// An event is pending until someone publishes it (schema/003_send_path.sql).
// The relay probes the oldest pending event a few times a second (one index
// step) and claims the events older than a grace period with FOR UPDATE SKIP
// LOCKED, publishes them and deletes their pending rows in the same
// transaction. The grace period lets senders publish and acknowledge their
// own events first, so the relay adds no Pusher traffic in the normal path.
// Several relays can run at once: a claim's row locks keep others off its
// events, a relay killed mid-batch leaves its transaction to roll back, and
// claims never let an event overtake an earlier pending one of its channel.
package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/chatwire/chatwire/lib/chat"
)

// Store is what the relay needs of the event log; lib/store implements it.
type Store interface {
	// OldestPendingAge is the age of the oldest pending event, false when
	// none is pending. It must be cheap: the relay calls it several times a
	// second.
	OldestPendingAge(ctx context.Context) (time.Duration, bool, error)
	// ClaimPendingInOrder publishes up to limit pending events older than
	// grace through deliver, in one transaction, keeping each channel's
	// order, and returns how many it delivered.
	ClaimPendingInOrder(ctx context.Context, grace time.Duration, limit int, deliver chat.DeliverFunc) (int, error)
}

// Options tune a Relay; zero values take the defaults.
type Options struct {
	// Grace is how old a pending event must be before the relay publishes
	// it: time for its sender to publish and acknowledge it. Default 500 ms.
	Grace time.Duration
	// PollInterval is the longest wait between two probes. Default 100 ms.
	PollInterval time.Duration
	// Batch is the number of events one claim publishes. Default 100.
	Batch int
	// PublishTimeout bounds the Pusher calls of one batch. Default 10 s.
	PublishTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failure (Pusher or
	// Postgres); it doubles per failure, with jitter. A recovered Pusher is
	// retried within MaxBackoff. Defaults 100 ms and 2 s.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// Observer hears about probes, claims and publishes; nil: nobody.
	Observer Observer
	// Jitter returns a number in [0, 1); nil: math/rand.
	Jitter func() float64
}

func (o Options) withDefaults() Options {
	if o.Grace <= 0 {
		o.Grace = 500 * time.Millisecond
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 100 * time.Millisecond
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.PublishTimeout <= 0 {
		o.PublishTimeout = 10 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 2 * time.Second
	}
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	if o.Jitter == nil {
		o.Jitter = rand.Float64
	}
	return o
}

// Observer hears what the relay does; lib/metrics turns it into Prometheus
// metrics. Calls come from the relay's one goroutine.
type Observer interface {
	// Probed reports a wake-up probe: its duration, and the oldest pending
	// event's age (ok false: none pending).
	Probed(took time.Duration, oldest time.Duration, ok bool)
	// Published reports a Pusher call for n events: its duration and error.
	Published(n int, took time.Duration, err error)
}

type nopObserver struct{}

func (nopObserver) Probed(time.Duration, time.Duration, bool) {}
func (nopObserver) Published(int, time.Duration, error)       {}

// Relay publishes pending events until its context ends.
type Relay struct {
	store     Store
	publisher chat.Publisher
	log       *slog.Logger
	opts      Options

	// published counts the events this relay delivered, for tests and logs.
	published atomic.Int64
	// healthy is false after a failed probe or claim, until one succeeds.
	healthy atomic.Bool
}

// New returns a relay over store and publisher.
func New(store Store, publisher chat.Publisher, log *slog.Logger, opts Options) *Relay {
	r := &Relay{store: store, publisher: publisher, log: log, opts: opts.withDefaults()}
	r.healthy.Store(true)
	return r
}

// Published is the number of events this relay has delivered.
func (r *Relay) Published() int64 { return r.published.Load() }

// Healthy reports whether the last probe or claim succeeded.
func (r *Relay) Healthy() bool { return r.healthy.Load() }

// Run publishes pending events until ctx ends. A batch in flight when ctx
// ends is finished (or, failing, rolled back to the queue) before Run
// returns; Run never starts another. It returns nil on a stop.
func (r *Relay) Run(ctx context.Context) error {
	r.log.InfoContext(ctx, "relay: running",
		"grace_ms", r.opts.Grace.Milliseconds(), "poll_ms", r.opts.PollInterval.Milliseconds(), "batch", r.opts.Batch)
	timer := time.NewTimer(0)
	defer timer.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			r.log.Info("relay: stopped", "published", r.Published())
			return nil
		case <-timer.C:
		}
		var wait time.Duration
		wait, failures = r.step(ctx, failures)
		timer.Reset(wait)
	}
}

// step probes and, when something is ripe, claims batches until the ripe
// events are out. It returns how long to wait before the next step and the
// count of consecutive failures.
func (r *Relay) step(ctx context.Context, failures int) (time.Duration, int) {
	start := time.Now()
	oldest, ok, err := r.store.OldestPendingAge(ctx)
	r.opts.Observer.Probed(time.Since(start), oldest, ok)
	if err != nil {
		if ctx.Err() != nil {
			return 0, failures
		}
		return r.failed(ctx, "probe", err, failures+1)
	}
	if !ok {
		r.healthy.Store(true)
		return r.opts.PollInterval, 0
	}
	if oldest < r.opts.Grace {
		// Come back when it ripens, unless its sender acknowledges it first.
		r.healthy.Store(true)
		return min(r.opts.PollInterval, r.opts.Grace-oldest), 0
	}
	for ctx.Err() == nil {
		n, err := r.claim(ctx)
		if err != nil {
			return r.failed(ctx, "claim", err, failures+1)
		}
		r.healthy.Store(true)
		failures = 0
		if n < r.opts.Batch {
			// The rest is too young, held by another relay, or behind an
			// event that is: look again after the usual interval.
			break
		}
	}
	return r.opts.PollInterval, 0
}

// claim publishes one batch. It does not stop when ctx ends: a batch in
// flight finishes or rolls back within its own deadline, so a stop never
// leaves claims half-done.
func (r *Relay) claim(ctx context.Context) (int, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.PublishTimeout+10*time.Second)
	defer cancel()
	n, err := r.store.ClaimPendingInOrder(cctx, r.opts.Grace, r.opts.Batch, r.deliver)
	r.published.Add(int64(n))
	return n, err
}

// errPublish marks a Pusher failure inside a claim, as opposed to a database one.
var errPublish = errors.New("pusher did not accept the events")

// deliver is the claim's DeliverFunc: one Publish under PublishTimeout.
func (r *Relay) deliver(ctx context.Context, events []chat.Event) error {
	ctx, cancel := context.WithTimeout(ctx, r.opts.PublishTimeout)
	defer cancel()
	start := time.Now()
	err := r.publisher.Publish(ctx, events)
	r.opts.Observer.Published(len(events), time.Since(start), err)
	if err != nil {
		return fmt.Errorf("%w: %w", errPublish, err)
	}
	return nil
}

// failed logs a failure and returns the backoff before the next attempt.
func (r *Relay) failed(ctx context.Context, what string, err error, failures int) (time.Duration, int) {
	r.healthy.Store(false)
	wait := Backoff(failures, r.opts.MinBackoff, r.opts.MaxBackoff, r.opts.Jitter())
	kind := "database"
	if errors.Is(err, errPublish) {
		kind = "pusher"
	}
	r.log.WarnContext(ctx, "relay: "+what+" failed; the events stay pending",
		"cause", kind, "failures", failures, "retry_in_ms", wait.Milliseconds(), "err", err)
	return wait, failures
}

// Backoff is the wait after the n-th consecutive failure (n >= 1): lo doubled
// per failure up to hi, then "equal jitter": between half of that and all of
// it, by jitter in [0, 1). Relays that failed together do not retry together,
// and none waits longer than hi.
func Backoff(n int, lo, hi time.Duration, jitter float64) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + time.Duration(jitter*float64(d/2))
}
