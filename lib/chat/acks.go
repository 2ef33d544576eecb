package chat

import (
	"context"
	"sync"
	"time"
)

// LongLivedAckDelay is the AckDelay of serve and dev (Options.AckDelay).
const LongLivedAckDelay = 50 * time.Millisecond

// maxHeldAcks bounds the acknowledgements a process holds: past it, the
// request that adds one writes them all at once.
const maxHeldAcks = 512

// publishAcks batches the acknowledgements of published events, so that under
// load recording "Pusher took it" costs no commit of its own.
//
// An event is pending until acknowledged (schema/003_send_path.sql); an
// acknowledgement deletes its pending row. A send carries whatever this
// process holds into its own transaction (SendWrite.Published). While any
// send is in flight, a finished publish leaves its acknowledgements here for
// one to carry; the last request to finish, when none is in flight, writes
// what is left before it answers. So nothing waits on a timer or a goroutine,
// which a Vercel instance frozen after its response could not run.
//
// A long-lived process (serve, dev) sets delay (Options.AckDelay): there the
// last request leaves what is held for the next send too, and a timer writes
// it after delay if no send came. At a steady rate that makes the
// acknowledgements ride on sends even when sends rarely overlap, at most one
// write of their own per delay. The delay stays far below the age at which
// anything republishes a pending event (the relay's default 500 ms grace,
// counted from the event's creation, so it must also cover the publish). An instance
// that dies or is never woken again with acknowledgements held loses only
// them: those events stay pending, the stale step or the cron republishes
// them, and clients de-duplicate by id.
type publishAcks struct {
	mu       sync.Mutex
	inFlight int // sends between begin and finish
	held     []int64
	delay    time.Duration // 0: the last request writes before it answers
	armed    bool          // a timer will write what is held
}

// begin counts a send in flight, unless limit (> 0) are in flight already:
// then it counts nothing and returns false.
func (a *publishAcks) begin(limit int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if limit > 0 && a.inFlight >= limit {
		return false
	}
	a.inFlight++
	return true
}

// take hands everything held to a send's transaction.
func (a *publishAcks) take() []int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	held := a.held
	a.held = nil
	return held
}

// restore takes back what a failed transaction did not record.
func (a *publishAcks) restore(seqs []int64) {
	if len(seqs) == 0 {
		return
	}
	a.mu.Lock()
	a.held = append(a.held, seqs...)
	a.mu.Unlock()
}

// finish adds seqs (a send's own ends its flight) and returns what the caller
// must write now: everything held when no send is in flight any more, or
// when too much is held; nil when a send in flight will carry it. With a
// delay it returns nil and arm when nothing is in flight: the caller starts
// the timer that calls due (at most one is armed).
func (a *publishAcks) finish(seqs []int64, send bool) (write []int64, arm bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if send {
		a.inFlight--
	}
	a.held = append(a.held, seqs...)
	switch {
	case len(a.held) == 0:
		return nil, false
	case len(a.held) >= maxHeldAcks:
	case a.inFlight > 0:
		return nil, false
	case a.delay > 0:
		if a.armed {
			return nil, false
		}
		a.armed = true
		return nil, true
	}
	held := a.held
	a.held = nil
	return held, false
}

// due takes everything held, for the timer that finish armed (or a
// shutdown) to write.
func (a *publishAcks) due() []int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.armed = false
	held := a.held
	a.held = nil
	return held
}

// finishAcks records seqs as published (see publishAcks), writing them now
// when no send will carry them.
func (s *Service) finishAcks(ctx context.Context, seqs []int64, send bool) {
	write, arm := s.acks.finish(seqs, send)
	if arm {
		time.AfterFunc(s.acks.delay, func() { s.writeAcks(context.Background(), s.acks.due()) })
	}
	s.writeAcks(ctx, write)
}

// FlushAcks writes the acknowledgements a long-lived process holds; serve
// calls it when it shuts down, so a deploy normally republishes nothing.
func (s *Service) FlushAcks(ctx context.Context) {
	s.writeAcks(ctx, s.acks.due())
}

// writeAcks deletes the pending rows of published events. A failure only
// logs: the events are republished later and clients de-duplicate.
func (s *Service) writeAcks(ctx context.Context, seqs []int64) {
	if len(seqs) == 0 {
		return
	}
	// The client may be gone; the acknowledgement is still worth writing.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.publishTimeout)
	defer cancel()
	if err := s.store.MarkPublished(ctx, seqs); err != nil {
		s.log.WarnContext(ctx, "mark published failed; the outbox republishes the events", "events", len(seqs), "err", err)
	}
}
