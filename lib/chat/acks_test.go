package chat

import (
	"slices"
	"testing"
)

func TestPublishAcksRideOnSendsInFlightAndTheLastOneWritesThem(t *testing.T) {
	var a publishAcks
	// Nothing in flight: a publish writes its own at once.
	if got := a.finish([]int64{1}, false); !slices.Equal(got, []int64{1}) {
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
	if got := a.finish([]int64{2, 3}, false); got != nil {
		t.Fatalf("finish during sends = %v, want nil (held for a send)", got)
	}
	// The next send to reach its transaction carries them.
	if got := a.take(); !slices.Equal(got, []int64{2, 3}) {
		t.Fatalf("take = %v, want [2 3]", got)
	}
	// Its transaction failed: they are held again.
	a.restore([]int64{2, 3})
	if got := a.finish([]int64{4}, true); got != nil {
		t.Fatalf("first send's finish = %v, want nil (one send still in flight)", got)
	}
	// The last send in flight writes everything held, its own included.
	if got := a.finish([]int64{5}, true); !slices.Equal(got, []int64{2, 3, 4, 5}) {
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
	if got := a.finish(many, false); len(got) != maxHeldAcks {
		t.Fatalf("finish of %d = %d written, want all", maxHeldAcks, len(got))
	}
	// A failed send has nothing to add and still ends its flight.
	if got := a.finish(nil, true); got != nil {
		t.Fatalf("finish with nothing held = %v, want nil", got)
	}
	if a.inFlight != 0 {
		t.Fatalf("in flight = %d, want 0", a.inFlight)
	}
}
