package chat

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// OutboxStore is the persistence of redelivery: events whose publishing did
// not happen (Pusher down, a function frozen after commit, a foreign writer).
type OutboxStore interface {
	// ClaimStaleEvents locks up to limit unpublished events created at least
	// age ago, oldest first, skipping rows another transaction holds, hands
	// them to deliver and, when it succeeds, marks them published in the same
	// transaction. When deliver fails nothing changes. It returns how many
	// events were delivered; with nothing stale it costs one cheap query.
	ClaimStaleEvents(ctx context.Context, age time.Duration, limit int, deliver DeliverFunc) (int, error)
	// ClaimRowEvents does the same for the unpublished events of one row.
	ClaimRowEvents(ctx context.Context, row RowEvents, deliver DeliverFunc) (int, error)
	// CountUnpublished counts the events not yet published.
	CountUnpublished(ctx context.Context) (int, error)
	// DeleteEventsBefore deletes up to limit events created before t, oldest first.
	DeleteEventsBefore(ctx context.Context, t time.Time, limit int) (int, error)
}

// DeliverFunc publishes claimed events; the claim commits only when it returns nil.
type DeliverFunc func(ctx context.Context, events []Event) error

// OutboxOptions tune redelivery; zero values take the defaults.
type OutboxOptions struct {
	// CronMinAge: the cron leaves younger events alone, so a function still
	// publishing its own rows is not raced. Default 5 s.
	CronMinAge time.Duration
	// CronLimit bounds the events one cron run republishes. Default 500.
	CronLimit int
	// Retention: the cron deletes events older than this. Default 7 days.
	Retention time.Duration
	// DeleteLimit bounds the events one cron run deletes. Default 10,000.
	DeleteLimit int
	// StaleAge, StaleLimit and StaleTimeout bound the redelivery every
	// successful publish piggybacks (Hobby crons run only daily): up to
	// StaleLimit events older than StaleAge, within StaleTimeout. Defaults
	// 10 s, 20 and 1 s; a negative StaleLimit turns it off.
	StaleAge     time.Duration
	StaleLimit   int
	StaleTimeout time.Duration
	// StaleEvery spaces the stale step within one process: at most one probe
	// per interval, so a busy instance does not pay it on every send.
	// Default 1 s; negative probes on every publish.
	StaleEvery time.Duration
}

func (o OutboxOptions) withDefaults() OutboxOptions {
	if o.CronMinAge <= 0 {
		o.CronMinAge = 5 * time.Second
	}
	if o.CronLimit <= 0 {
		o.CronLimit = 500
	}
	if o.Retention <= 0 {
		o.Retention = 7 * 24 * time.Hour
	}
	if o.DeleteLimit <= 0 {
		o.DeleteLimit = 10_000
	}
	if o.StaleAge <= 0 {
		o.StaleAge = 10 * time.Second
	}
	if o.StaleLimit == 0 {
		o.StaleLimit = 20
	}
	if o.StaleTimeout <= 0 {
		o.StaleTimeout = time.Second
	}
	if o.StaleEvery == 0 {
		o.StaleEvery = time.Second
	}
	return o
}

// cronBatch is the number of events one claim transaction publishes: ten
// batch calls to Pusher at most.
const cronBatch = 100

// errPublish marks a Pusher failure inside a claim, as opposed to a database one.
var errPublish = errors.New("pusher did not accept the events")

// deliver is the DeliverFunc of every claim: one Publish with the publish deadline.
func (s *Service) deliver(ctx context.Context, events []Event) error {
	pctx, cancel := context.WithTimeout(ctx, s.publishTimeout)
	defer cancel()
	if err := s.publisher.Publish(pctx, events); err != nil {
		return fmt.Errorf("%w: %w", errPublish, err)
	}
	return nil
}

// republishStale redelivers a few events that missed Pusher earlier. publish
// calls it after a success, when Pusher is known to answer. It is bounded in
// count and time, runs before the response (a frozen function instance must
// not hold a goroutine) and never fails the request.
func (s *Service) republishStale(ctx context.Context) {
	if s.publisher == nil || s.outbox.StaleLimit < 0 {
		return
	}
	if now, last := time.Now().UnixNano(), s.lastStaleProbe.Load(); s.outbox.StaleEvery > 0 &&
		(now-last < int64(s.outbox.StaleEvery) || !s.lastStaleProbe.CompareAndSwap(last, now)) {
		return // probed recently, or another request of this process is probing now
	}
	ctx, cancel := context.WithTimeout(ctx, s.outbox.StaleTimeout)
	defer cancel()
	n, err := s.store.ClaimStaleEvents(ctx, s.outbox.StaleAge, s.outbox.StaleLimit, s.deliver)
	if err != nil {
		s.log.WarnContext(ctx, "republish stale events", "err", err)
		return
	}
	if n > 0 {
		s.log.InfoContext(ctx, "republished stale events", "events", n)
	}
}

// OutboxResult is the answer of RedeliverOutbox.
type OutboxResult struct {
	Republished int `json:"republished"`
	// Remaining counts events still unpublished after the run, including
	// ones too young for it.
	Remaining int `json:"remaining"`
	// Deleted counts events removed for being older than the retention.
	Deleted int `json:"deleted"`
}

// RedeliverOutbox is the cron sweep: it deletes events past the retention,
// then republishes unpublished events older than CronMinAge, oldest first, in
// transactions of 100 that skip rows another run holds, until CronLimit or
// the deadline. A Pusher failure is EUNAVAILABLE after the counts are known.
func (s *Service) RedeliverOutbox(ctx context.Context) (OutboxResult, error) {
	var res OutboxResult
	deleted, err := s.store.DeleteEventsBefore(ctx, time.Now().Add(-s.outbox.Retention), s.outbox.DeleteLimit)
	if err != nil {
		return res, err
	}
	res.Deleted = deleted
	var publishErr error
	for s.publisher != nil && res.Republished < s.outbox.CronLimit && s.timeLeft(ctx) {
		batch := min(cronBatch, s.outbox.CronLimit-res.Republished)
		n, err := s.store.ClaimStaleEvents(ctx, s.outbox.CronMinAge, batch, s.deliver)
		if errors.Is(err, errPublish) {
			publishErr = err
			break
		}
		if err != nil {
			return res, err
		}
		res.Republished += n
		if n < batch {
			break
		}
	}
	if res.Remaining, err = s.store.CountUnpublished(ctx); err != nil {
		return res, err
	}
	if publishErr != nil {
		s.log.WarnContext(ctx, "outbox: publish failed", "err", publishErr)
		return res, Errorf(EUNAVAILABLE, "Pusher did not accept the events: %d republished, %d remaining; the next run retries",
			res.Republished, res.Remaining)
	}
	return res, nil
}

// timeLeft reports whether ctx leaves room for one more claim: a Pusher call
// and a few queries.
func (s *Service) timeLeft(ctx context.Context) bool {
	deadline, ok := ctx.Deadline()
	return ctx.Err() == nil && (!ok || time.Until(deadline) > s.publishTimeout+2*time.Second)
}
