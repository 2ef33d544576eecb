package chat

import (
	"context"
	"sync"
)

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
// which a Vercel instance frozen after its response could not run. An instance
// that dies or is never woken again with acknowledgements held loses only
// them: those events stay pending, the stale step or the cron republishes
// them, and clients de-duplicate by id.
type publishAcks struct {
	mu       sync.Mutex
	inFlight int // sends between begin and finish
	held     []int64
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
// when too much is held; nil when a send in flight will carry it.
func (a *publishAcks) finish(seqs []int64, send bool) []int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if send {
		a.inFlight--
	}
	a.held = append(a.held, seqs...)
	if len(a.held) == 0 || (a.inFlight > 0 && len(a.held) < maxHeldAcks) {
		return nil
	}
	held := a.held
	a.held = nil
	return held
}

// finishAcks records seqs as published (see publishAcks), writing them now
// when no send will carry them. A failure only logs: the events are
// republished later and clients de-duplicate.
func (s *Service) finishAcks(ctx context.Context, seqs []int64, send bool) {
	write := s.acks.finish(seqs, send)
	if len(write) == 0 {
		return
	}
	// The client may be gone; the acknowledgement is still worth writing.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.publishTimeout)
	defer cancel()
	if err := s.store.MarkPublished(ctx, write); err != nil {
		s.log.WarnContext(ctx, "mark published failed; the outbox republishes the events", "events", len(write), "err", err)
	}
}
