package chat

import (
	"slices"
	"testing"
	"time"
)

// finishNow is finish for a process without a delay, which never arms a timer.
func finishNow(t *testing.T, a *publishAcks, seqs []int64, send bool) []int64 {
	t.Helper()
	write, arm := a.finish(seqs, send)
	if arm {
		t.Fatalf("finish(%v) armed a timer without a delay", seqs)
	}
	return write
}

func TestPublishAcksRideOnSendsInFlightAndTheLastOneWritesThem(t *testing.T) {
	a := &publishAcks{}
	// Nothing in flight: a publish writes its own at once.
	if got := finishNow(t, a, []int64{1}, false); !slices.Equal(got, []int64{1}) {
		t.Fatalf("idle finish = %v, want [1]", got)
	}
	// Two sends in flight.
	a.begin(0)
	if !a.begin(2) {
		t.Fatal("second send refused with a limit of 2")
	}
	if a.begin(2) {
		t.Fatal("third send admitted with a limit of 2")
	}
	if got := finishNow(t, a, []int64{2, 3}, false); got != nil {
		t.Fatalf("finish during sends = %v, want nil (held for a send)", got)
	}
	// The next send to reach its transaction carries them.
	if got := a.take(); !slices.Equal(got, []int64{2, 3}) {
		t.Fatalf("take = %v, want [2 3]", got)
	}
	// Its transaction failed: they are held again.
	a.restore([]int64{2, 3})
	if got := finishNow(t, a, []int64{4}, true); got != nil {
		t.Fatalf("first send's finish = %v, want nil (one send still in flight)", got)
	}
	// The last send in flight writes everything held, its own included.
	if got := finishNow(t, a, []int64{5}, true); !slices.Equal(got, []int64{2, 3, 4, 5}) {
		t.Fatalf("last send's finish = %v, want [2 3 4 5]", got)
	}
	if got := a.take(); got != nil {
		t.Fatalf("held after the write = %v, want none", got)
	}
	// Too much held: written even with a send in flight.
	a.begin(0)
	many := make([]int64, maxHeldAcks)
	for i := range many {
		many[i] = int64(i)
	}
	if got := finishNow(t, a, many, false); len(got) != maxHeldAcks {
		t.Fatalf("finish of %d = %d written, want all", maxHeldAcks, len(got))
	}
	// A failed send has nothing to add and still ends its flight.
	if got := finishNow(t, a, nil, true); got != nil {
		t.Fatalf("finish with nothing held = %v, want nil", got)
	}
	if a.inFlight != 0 {
		t.Fatalf("in flight = %d, want 0", a.inFlight)
	}
}

// A long-lived process with a delay leaves what the last request holds for
// the next send, and one timer writes whatever no send carried.
func TestPublishAcksWithADelayWaitForTheNextSendOrOneTimer(t *testing.T) {
	a := &publishAcks{delay: 50 * time.Millisecond}
	write, arm := a.finish([]int64{1}, false)
	if write != nil || !arm {
		t.Fatalf("idle finish = %v, arm %v; want nothing written and the timer armed", write, arm)
	}
	if write, arm := a.finish([]int64{2}, false); write != nil || arm {
		t.Fatalf("second idle finish = %v, arm %v; want nothing, the timer is armed already", write, arm)
	}
	// A send comes before the timer and carries them.
	a.begin(0)
	if got := a.take(); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("take = %v, want [1 2]", got)
	}
	if write, arm := a.finish([]int64{3}, true); write != nil || arm {
		t.Fatalf("the send's finish = %v, arm %v; want nothing (a timer is armed)", write, arm)
	}
	// The timer writes what no send carried, and the next idle finish arms again.
	if got := a.due(); !slices.Equal(got, []int64{3}) {
		t.Fatalf("due = %v, want [3]", got)
	}
	if got := a.due(); got != nil {
		t.Fatalf("second due = %v, want nothing", got)
	}
	if write, arm := a.finish([]int64{4}, false); write != nil || !arm {
		t.Fatalf("finish after the timer = %v, arm %v; want the timer armed again", write, arm)
	}
	// Too much held is written at once, timer or not.
	many := make([]int64, maxHeldAcks)
	if write, _ := a.finish(many, false); len(write) != maxHeldAcks+1 {
		t.Fatalf("finish past the bound wrote %d, want %d", len(write), maxHeldAcks+1)
	}
}
