package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// scenarios maps -scenario to what it runs; "" is one run from the flags.
func scenarios() map[string]func(b *bench, ctx context.Context) error {
	return map[string]func(b *bench, ctx context.Context) error{
		"": func(b *bench, ctx context.Context) error {
			return b.load(ctx, b.specFromFlags("custom"))
		},
		"smoke": func(b *bench, ctx context.Context) error {
			return b.load(ctx, b.spec(loadSpec{scenario: "smoke", connections: 20, senders: 4, rate: 50,
				duration: 3 * time.Second, warmup: 500 * time.Millisecond}))
		},
		"free-tier":      (*bench).freeTier,
		"1k-connections": (*bench).thousandConnections,
		"sustained":      (*bench).sustained,
		"max-rate":       (*bench).maxRate,
		"cold-start":     (*bench).coldStart,
		"growth":         (*bench).growth,
		"overload":       (*bench).overload,
		"relay":          (*bench).relayScenario,
		"all": func(b *bench, ctx context.Context) error {
			b.opts.peer, b.opts.peerNextJS = true, true
			var errs []error
			for _, f := range []func(*bench, context.Context) error{
				(*bench).freeTier, (*bench).thousandConnections, (*bench).sustained,
				(*bench).maxRate, (*bench).overload, (*bench).coldStart, (*bench).growth,
			} {
				if err := f(b, ctx); err != nil {
					if ctx.Err() != nil {
						return err
					}
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		},
	}
}

func (b *bench) freeTier(ctx context.Context) error {
	return b.load(ctx, b.spec(loadSpec{scenario: "free-tier", connections: 100, senders: 10, rate: 100, duration: 30 * time.Second}))
}

func (b *bench) thousandConnections(ctx context.Context) error {
	return b.load(ctx, b.spec(loadSpec{scenario: "1k-connections", connections: 1000, senders: 20, rate: 200, duration: 30 * time.Second}))
}

func (b *bench) sustained(ctx context.Context) error {
	return b.load(ctx, b.spec(loadSpec{scenario: "sustained", connections: 100, senders: 20, rate: 1000, duration: 30 * time.Second}))
}

// specFromFlags is a load run entirely from the flags.
func (b *bench) specFromFlags(name string) loadSpec {
	o := b.opts
	return loadSpec{scenario: name, rate: o.rate, duration: o.duration, warmup: o.warmup, grace: o.grace,
		connections: o.connections, senders: o.senders, inflight: o.inflight}
}

// spec is a scenario's settings, with the flags given on the command line
// winning and defaults for what neither sets.
func (b *bench) spec(s loadSpec) loadSpec {
	f := b.specFromFlags(s.scenario)
	set := b.opts.set
	if set["rate"] || s.rate == 0 {
		s.rate = f.rate
	}
	if set["duration"] || s.duration == 0 {
		s.duration = f.duration
	}
	if set["warmup"] || s.warmup == 0 {
		s.warmup = f.warmup
	}
	if set["connections"] || s.connections == 0 {
		s.connections = f.connections
	}
	if set["senders"] || s.senders == 0 {
		s.senders = f.senders
	}
	s.grace, s.inflight = f.grace, f.inflight
	return s
}

// load runs spec against chatwire and, with -peer, against the Socket.IO
// peer, prints the table and fails on any lost or duplicated message.
func (b *bench) load(ctx context.Context, spec loadSpec) error {
	systems, err := b.systems(ctx)
	if err != nil {
		return err
	}
	var rs []*result
	for _, sys := range systems {
		r, err := runLoad(ctx, sys, spec, b.db, b.log)
		if err != nil {
			return fmt.Errorf("%s %s: %w", sys.name(), spec.scenario, err)
		}
		rs = append(rs, r)
	}
	b.report.Runs = append(b.report.Runs, rs...)
	title := fmt.Sprintf("== %s", spec.scenario)
	for _, peer := range rs[1:] {
		rt := newRatio(spec.scenario, rs[0], peer)
		b.report.Ratios = append(b.report.Ratios, rt)
		defer printRatio(b.out, rt)
	}
	printResults(b.out, title, rs)
	if err := b.plotLoad(spec.scenario, rs); err != nil {
		return err
	}
	return checkDelivery(rs, spec.scenario == "smoke")
}

// checkDelivery is the exit status of load runs: any lost, duplicated or
// misrouted message fails; with strict (the CI smoke), any error too.
func checkDelivery(rs []*result, strict bool) error {
	var errs []error
	for _, r := range rs {
		if !r.ok() {
			errs = append(errs, fmt.Errorf("%s %s: %d lost, %d duplicated, %d misrouted", r.System, r.Scenario, r.Lost, r.Duplicated, r.Misrouted))
		}
		if strict && (r.Errors > 0 || r.Unpublished > 0) {
			errs = append(errs, fmt.Errorf("%s %s: %d send errors, %d unpublished (first: %s)", r.System, r.Scenario, r.Errors, r.Unpublished, r.FirstError))
		}
	}
	return errors.Join(errs...)
}

// ratio compares chatwire with the peer at equal load: chatwire / peer, so
// below 1 means chatwire is faster or smaller.
type ratio struct {
	Scenario    string  `json:"scenario"`
	Peer        string  `json:"peer"`
	SendP50     float64 `json:"send_p50"`
	SendP99     float64 `json:"send_p99"`
	DeliveryP50 float64 `json:"delivery_p50"`
	DeliveryP99 float64 `json:"delivery_p99"`
	ServerRSS   float64 `json:"server_rss"`
	ServerCPU   float64 `json:"server_cpu"`
	// CPUPerMessage compares server plus Postgres CPU time per message.
	CPUPerMessage float64 `json:"cpu_per_message"`
}

// cpuPerMessage is server plus Postgres CPU time per message sent, in ms.
func (r *result) cpuPerMessage() float64 {
	if r.Sent == 0 {
		return 0
	}
	return (r.ServerCPUPct + r.PostgresCPU) / 100 * r.SampledS * 1000 / float64(r.Sent)
}

func newRatio(scenario string, chatwire, peer *result) ratio {
	div := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return round2(a / b)
	}
	return ratio{Scenario: scenario, Peer: peer.System, CPUPerMessage: div(chatwire.cpuPerMessage(), peer.cpuPerMessage()),
		SendP50: div(chatwire.SendP50, peer.SendP50), SendP99: div(chatwire.SendP99, peer.SendP99),
		DeliveryP50: div(chatwire.DeliveryP50, peer.DeliveryP50), DeliveryP99: div(chatwire.DeliveryP99, peer.DeliveryP99),
		ServerRSS: div(chatwire.ServerRSSMB, peer.ServerRSSMB), ServerCPU: div(chatwire.ServerCPUPct, peer.ServerCPUPct)}
}
