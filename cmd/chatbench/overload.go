package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The overload scenario's bar: after 10 s at twice the maximum rate, delivery
// p99 back under overloadP99 within overloadWithin of the overload's end,
// with nothing lost.
const (
	overloadP99    = 100 // ms
	overloadWithin = 10  // s
	overloadFor    = 10 * time.Second
	overloadAfter  = 20 * time.Second
)

// overloadResult is one system's overload run.
type overloadResult struct {
	System  string  `json:"system"`
	MaxRate float64 `json:"max_rate_per_s"`
	// RecoveredAfterS is how many seconds after the overload ended every
	// later second's delivery p99 stayed under 100 ms; -1: never in the run.
	RecoveredAfterS int     `json:"recovered_after_s"`
	Run             *result `json:"run"`
}

// overload sends at twice -rate (the maximum rate, default 1,000/s) for 10 s,
// then at half of -rate for 20 s, and reports when delivery p99 came back
// under 100 ms. Senders retry 429 and 503 after Retry-After with the same
// client_id, so a shed message is late, never lost. chatwire fails the run
// when it loses a message or takes longer than 10 s to recover.
func (b *bench) overload(ctx context.Context) error {
	systems, err := b.systems(ctx)
	if err != nil {
		return err
	}
	maxRate := 1000.0
	if b.opts.set["rate"] {
		maxRate = b.opts.rate
	}
	spec := b.spec(loadSpec{scenario: "overload", connections: 100, senders: 20, duration: overloadFor, warmup: 2 * time.Second})
	spec.rate, spec.duration = 2*maxRate, overloadFor
	spec.thenRate, spec.thenDuration = maxRate/2, overloadAfter
	var errs []error
	for _, sys := range systems {
		r, err := runLoad(ctx, sys, spec, b.db, b.log)
		if err != nil {
			return fmt.Errorf("%s overload: %w", sys.name(), err)
		}
		o := overloadResult{System: sys.name(), MaxRate: maxRate, RecoveredAfterS: recoveredAfter(r.DeliveryP99BySecond, int(overloadFor/time.Second)), Run: r}
		b.report.Overload = append(b.report.Overload, o)
		fmt.Fprintf(b.out, "\n== overload %s: %.0f/s for %s, then %.0f/s for %s\n", sys.name(), spec.rate, overloadFor, spec.thenRate, overloadAfter)
		fmt.Fprintf(b.out, "delivery p99 back under %d ms: %s; sent %d, delivered %d, lost %d, duplicated %d, shed and retried %d, errors %d\n",
			overloadP99, recoveryText(o.RecoveredAfterS), r.Sent, r.Delivered, r.Lost, r.Duplicated, r.Shed, r.Errors)
		fmt.Fprintf(b.out, "delivery p99 by second (ms): %v\n", r.DeliveryP99BySecond)
		if r.Duplicated > 0 || r.Misrouted > 0 {
			errs = append(errs, fmt.Errorf("%s overload: %d duplicated, %d misrouted", sys.name(), r.Duplicated, r.Misrouted))
		}
		if sys.name() == "chatwire" {
			if r.Lost > 0 {
				errs = append(errs, fmt.Errorf("chatwire overload: %d lost", r.Lost))
			}
			if o.RecoveredAfterS < 0 || o.RecoveredAfterS > overloadWithin {
				errs = append(errs, fmt.Errorf("chatwire overload: delivery p99 %s, want within %d s", recoveryText(o.RecoveredAfterS), overloadWithin))
			}
		}
	}
	return errors.Join(errs...)
}

// recoveredAfter is the first second k >= end after which every second's
// p99 is under overloadP99, minus end; -1 when the last second is not.
func recoveredAfter(p99BySecond []float64, end int) int {
	k := len(p99BySecond)
	for k > end && p99BySecond[k-1] < overloadP99 {
		k--
	}
	if k == len(p99BySecond) {
		return -1
	}
	return k - end
}

func recoveryText(s int) string {
	if s < 0 {
		return "never within the run"
	}
	return fmt.Sprintf("%d s after the overload ended", s)
}

// shedOf is how many 429 and 503 answers a system's senders retried so far.
func shedOf(sys system) int64 {
	if s, ok := sys.(interface{ shedCount() int64 }); ok {
		return s.shedCount()
	}
	return 0
}
