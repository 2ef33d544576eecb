package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// result is one measured load run, as the table and the JSON report it.
type result struct {
	System      string  `json:"system"`
	Scenario    string  `json:"scenario"`
	Rate        float64 `json:"rate_per_s"`
	DurationS   float64 `json:"duration_s"`
	Connections int     `json:"connections"`
	Senders     int     `json:"senders"`

	SendP50     float64 `json:"send_p50_ms"`
	SendP95     float64 `json:"send_p95_ms"`
	SendP99     float64 `json:"send_p99_ms"`
	SendMax     float64 `json:"send_max_ms"`
	DeliveryP50 float64 `json:"delivery_p50_ms"`
	DeliveryP95 float64 `json:"delivery_p95_ms"`
	DeliveryP99 float64 `json:"delivery_p99_ms"`
	DeliveryMax float64 `json:"delivery_max_ms"`
	Throughput  float64 `json:"throughput_per_s"`

	Sent        int    `json:"sent"` // answered with success
	Delivered   int    `json:"delivered"`
	Errors      int    `json:"errors"`
	Unpublished int    `json:"unpublished,omitempty"`
	Lost        int    `json:"lost"`
	Duplicated  int    `json:"duplicated"`
	Misrouted   int    `json:"misrouted,omitempty"`
	FirstError  string `json:"first_error,omitempty"`

	ServerRSSMB   float64 `json:"server_rss_mb"`
	ServerCPUPct  float64 `json:"server_cpu_pct"`
	HarnessCPUPct float64 `json:"harness_cpu_pct"`
	PostgresCPU   float64 `json:"postgres_cpu_pct,omitempty"`
	OtherCPU      float64 `json:"other_cpu_pct"`
	PGConnections int     `json:"pg_connections"`
	// SampledS is how long the CPU figures were sampled (the phase and its
	// grace): CPU % × SampledS is the CPU time.
	SampledS float64 `json:"sampled_s"`
	// GeneratorLagP99 is how late the dispatcher fired; when it is large the
	// harness, not the server, limited the rate.
	GeneratorLagP99 float64 `json:"generator_lag_p99_ms"`

	// Statements are the top Postgres statements (-pg-statements).
	Statements []statement `json:"pg_statements,omitempty"`
	// Cost is what each message cost the database and the server.
	Cost *perMessage `json:"per_message,omitempty"`
	// Shed counts the 429 and 503 answers the senders got and retried after
	// Retry-After.
	Shed int `json:"shed_and_retried,omitempty"`

	// DeliveryP99BySecond is the p99 of the messages scheduled in each second.
	DeliveryP99BySecond []float64 `json:"delivery_p99_by_second_ms"`

	sendLat, deliveryLat []time.Duration // sorted, for the plots
}

func summarize(system string, spec loadSpec, p *phase, lags []time.Duration, u usage) *result {
	r := &result{
		System: system, Scenario: spec.scenario, Rate: spec.rate, DurationS: spec.duration.Seconds(),
		Connections: spec.connections, Senders: spec.senders,
		Errors: int(p.errCount.Load()), Unpublished: int(p.unpub.Load()), Misrouted: int(p.strays.Load()),
		ServerRSSMB: u.rssMB, ServerCPUPct: u.serverCPUPct, HarnessCPUPct: u.harnessCPUPct, PostgresCPU: u.postgresCPU, OtherCPU: u.otherCPU, PGConnections: u.pgConns,
		SampledS: round2(u.wallS),
	}
	if e := p.firstErr.Load(); e != nil {
		r.FirstError = *e
	}
	var lastDelivery time.Duration
	seconds := p.seconds()
	bySecond := make([][]time.Duration, seconds)
	for i := range p.msgs {
		m := &p.msgs[i]
		due := p.scheduled(i)
		if m.sendOK.Load() {
			r.Sent++
			r.sendLat = append(r.sendLat, time.Duration(m.sendDone.Load())-due)
		}
		d := m.deliveries.Load()
		if d == 0 {
			if m.sendOK.Load() {
				r.Lost++
			}
			continue
		}
		if d > 1 {
			r.Duplicated++
		}
		r.Delivered++
		at := time.Duration(m.delivered.Load())
		lastDelivery = max(lastDelivery, at)
		lat := at - due
		r.deliveryLat = append(r.deliveryLat, lat)
		if s := int(due / time.Second); s < seconds {
			bySecond[s] = append(bySecond[s], lat)
		}
	}
	slices.Sort(r.sendLat)
	slices.Sort(r.deliveryLat)
	slices.Sort(lags)
	r.SendP50, r.SendP95, r.SendP99, r.SendMax = pct(r.sendLat, .50), pct(r.sendLat, .95), pct(r.sendLat, .99), pct(r.sendLat, 1)
	r.DeliveryP50, r.DeliveryP95, r.DeliveryP99, r.DeliveryMax = pct(r.deliveryLat, .50), pct(r.deliveryLat, .95), pct(r.deliveryLat, .99), pct(r.deliveryLat, 1)
	r.GeneratorLagP99 = pct(lags, .99)
	if lastDelivery > 0 {
		r.Throughput = round1(float64(r.Delivered) / lastDelivery.Seconds())
	}
	for _, lat := range bySecond {
		slices.Sort(lat)
		r.DeliveryP99BySecond = append(r.DeliveryP99BySecond, pct(lat, .99))
	}
	return r
}

// pct is the q-quantile of sorted durations in milliseconds (nearest rank),
// q = 1 the maximum; 0 when there are none.
func pct(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	i = min(max(i, 0), len(sorted)-1)
	return round2(float64(sorted[i]) / float64(time.Millisecond))
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
func round2(f float64) float64 { return math.Round(f*100) / 100 }

// ok reports whether every message sent was delivered exactly once.
func (r *result) ok() bool { return r.Lost == 0 && r.Duplicated == 0 && r.Misrouted == 0 }

// printResults writes load runs as a table, one column per run.
func printResults(w io.Writer, title string, rs []*result) {
	fmt.Fprintf(w, "\n%s\n", title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(name string, f func(r *result) string) {
		cells := []string{name}
		for _, r := range rs {
			cells = append(cells, f(r))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	ms := func(f func(r *result) float64) func(r *result) string {
		return func(r *result) string { return fmt.Sprintf("%.1f ms", f(r)) }
	}
	row("system", func(r *result) string { return r.System })
	row("load", func(r *result) string {
		return fmt.Sprintf("%.0f/s x %.0fs, %d conns, %d senders", r.Rate, r.DurationS, r.Connections, r.Senders)
	})
	row("send p50", ms(func(r *result) float64 { return r.SendP50 }))
	row("send p95", ms(func(r *result) float64 { return r.SendP95 }))
	row("send p99", ms(func(r *result) float64 { return r.SendP99 }))
	row("delivery p50", ms(func(r *result) float64 { return r.DeliveryP50 }))
	row("delivery p95", ms(func(r *result) float64 { return r.DeliveryP95 }))
	row("delivery p99", ms(func(r *result) float64 { return r.DeliveryP99 }))
	row("delivery max", ms(func(r *result) float64 { return r.DeliveryMax }))
	row("throughput", func(r *result) string { return fmt.Sprintf("%.0f/s", r.Throughput) })
	row("sent/delivered", func(r *result) string { return fmt.Sprintf("%d/%d", r.Sent, r.Delivered) })
	row("errors/lost/dup", func(r *result) string { return fmt.Sprintf("%d/%d/%d", r.Errors, r.Lost, r.Duplicated) })
	row("server RSS", func(r *result) string { return fmt.Sprintf("%.0f MB", r.ServerRSSMB) })
	row("server CPU", func(r *result) string { return fmt.Sprintf("%.0f%%", r.ServerCPUPct) })
	row("postgres CPU", func(r *result) string { return fmt.Sprintf("%.0f%%", r.PostgresCPU) })
	row("harness CPU", func(r *result) string { return fmt.Sprintf("%.0f%%", r.HarnessCPUPct) })
	row("rest of machine CPU", func(r *result) string { return fmt.Sprintf("%.0f%%", r.OtherCPU) })
	row("pg connections", func(r *result) string { return fmt.Sprint(r.PGConnections) })
	cost := func(f func(c *perMessage) string) func(r *result) string {
		return func(r *result) string {
			if r.Cost == nil {
				return "-"
			}
			return f(r.Cost)
		}
	}
	row("per message: statements", cost(func(c *perMessage) string { return orDash(c.Statements, "%.2f") }))
	row("per message: round trips", cost(func(c *perMessage) string { return orDash(c.RoundTrips, "%.2f") }))
	row("per message: write commits", cost(func(c *perMessage) string { return fmt.Sprintf("%.2f", c.Commits) }))
	row("per message: WAL", cost(func(c *perMessage) string { return fmt.Sprintf("%.0f B", c.WALBytes) }))
	row("per message: server CPU", cost(func(c *perMessage) string { return fmt.Sprintf("%.3f ms", c.ServerCPUMs) }))
	row("per message: postgres CPU", cost(func(c *perMessage) string { return fmt.Sprintf("%.3f ms", c.PostgresCPUMs) }))
	row("shed and retried", func(r *result) string { return fmt.Sprint(r.Shed) })
	row("generator lag p99", ms(func(r *result) float64 { return r.GeneratorLagP99 }))
	tw.Flush()
	for _, r := range rs {
		if r.FirstError != "" {
			fmt.Fprintf(w, "%s: first error: %s\n", r.System, r.FirstError)
		}
		printStatements(w, r)
	}
}

// orDash formats v, or "-" when it was not measured (0).
func orDash(v float64, format string) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf(format, v)
}
