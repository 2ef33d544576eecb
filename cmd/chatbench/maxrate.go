package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// maxRateSteps are the rates max-rate tries, in messages per second.
var maxRateSteps = []float64{100, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800, 2000, 2400, 2800, 3200, 3600, 4000, 5000, 6000}

// maxRateResult is the highest rate a system sustained and the steps tried.
type maxRateResult struct {
	System  string    `json:"system"`
	MaxRate float64   `json:"max_rate_per_s"`
	Limit   string    `json:"stopped_because,omitempty"`
	Steps   []*result `json:"steps"`
}

// maxRate steps the rate up in short runs and keeps the highest one whose
// delivery p99 stayed under -max-p99 (default 500 ms) with nothing lost, no send errors and a
// throughput within 5% of the rate. The first failing step ends the search;
// its losses say how the system failed and do not fail chatbench (a
// duplicate anywhere does).
func (b *bench) maxRate(ctx context.Context) error {
	systems, err := b.systems(ctx)
	if err != nil {
		return err
	}
	var errs []error
	var all []maxRateResult
	for _, sys := range systems {
		mr := maxRateResult{System: sys.name()}
		for _, rate := range maxRateSteps {
			if rate < b.opts.maxRateFrom {
				continue
			}
			spec := b.spec(loadSpec{scenario: fmt.Sprintf("max-rate %.0f/s", rate), connections: 100, senders: 20,
				duration: b.opts.maxRateStep, warmup: time.Second})
			spec.rate = rate
			r, err := runLoad(ctx, sys, spec, b.db, b.log)
			if err != nil {
				return err
			}
			mr.Steps = append(mr.Steps, r)
			if r.Duplicated > 0 || r.Misrouted > 0 {
				errs = append(errs, fmt.Errorf("%s at %.0f/s: %d duplicated, %d misrouted", sys.name(), rate, r.Duplicated, r.Misrouted))
			}
			if why := stepFailed(r, b.opts.maxRateP99); why != "" {
				mr.Limit = fmt.Sprintf("at %.0f/s: %s", rate, why)
				break
			}
			mr.MaxRate = rate
		}
		if mr.Limit == "" {
			mr.Limit = "not reached: the highest rate tried"
		}
		fmt.Fprintf(b.log, "chatbench: %s max-rate: %.0f/s (stopped %s)\n", sys.name(), mr.MaxRate, mr.Limit)
		all = append(all, mr)
	}
	b.report.MaxRate = append(b.report.MaxRate, all...)
	printMaxRate(b, all)
	if err := b.plotMaxRate(all); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func stepFailed(r *result, p99Limit float64) string {
	switch {
	case r.Lost > 0:
		return fmt.Sprintf("%d lost", r.Lost)
	case r.Errors > 0:
		return fmt.Sprintf("%d send errors (%s)", r.Errors, r.FirstError)
	case r.DeliveryP99 >= p99Limit:
		return fmt.Sprintf("delivery p99 %.0f ms", r.DeliveryP99)
	case r.Throughput < 0.95*r.Rate:
		return fmt.Sprintf("throughput %.0f/s", r.Throughput)
	}
	return ""
}

func printMaxRate(b *bench, all []maxRateResult) {
	fmt.Fprintf(b.out, "\n== max-rate (delivery p99 < %.0f ms, no loss, no errors)\n", b.opts.maxRateP99)
	for _, mr := range all {
		fmt.Fprintf(b.out, "%s: %.0f msg/s; stopped %s\n", mr.System, mr.MaxRate, mr.Limit)
		fmt.Fprintf(b.out, "  %8s %10s %10s %10s %10s %8s %8s\n", "rate", "send p99", "deliv p50", "deliv p99", "thru/s", "lost", "errors")
		for _, r := range mr.Steps {
			fmt.Fprintf(b.out, "  %8.0f %10.1f %10.1f %10.1f %10.0f %8d %8d\n", r.Rate, r.SendP99, r.DeliveryP50, r.DeliveryP99, r.Throughput, r.Lost, r.Errors)
		}
	}
}
