package main

import (
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The plots are plain SVG written here, with no dependency: line charts
// (latency by percentile, by second, by rate) and grouped bar charts.

const (
	plotW, plotH                   = 720, 420
	padL, padR, padT, padB float64 = 70, 160, 40, 50
)

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"}

type series struct {
	name   string
	xs, ys []float64
	dashed bool
	color  string // empty: the palette's, by position
}

type tick struct {
	at    float64
	label string
}

type lineChart struct {
	title, xLabel, yLabel string
	series                []series
	xTicks                []tick // nil: automatic
	hline                 *tick  // a reference line (a target), optional
}

func (c lineChart) svg() []byte {
	xmin, xmax, ymax := math.Inf(1), math.Inf(-1), 0.0
	for _, s := range c.series {
		for i := range s.xs {
			xmin, xmax, ymax = math.Min(xmin, s.xs[i]), math.Max(xmax, s.xs[i]), math.Max(ymax, s.ys[i])
		}
	}
	if c.hline != nil {
		ymax = math.Max(ymax, c.hline.at)
	}
	if math.IsInf(xmin, 0) || xmax == xmin {
		xmin, xmax = 0, 1
	}
	yTicks := niceTicks(0, ymax)
	ymax = yTicks[len(yTicks)-1].at
	xTicks := c.xTicks
	if xTicks == nil {
		xTicks = niceTicks(xmin, xmax)
		xmin, xmax = math.Min(xmin, xTicks[0].at), math.Max(xmax, xTicks[len(xTicks)-1].at)
	}
	px := func(x float64) float64 { return padL + (x-xmin)/(xmax-xmin)*(plotW-padL-padR) }
	py := func(y float64) float64 { return plotH - padB - y/ymax*(plotH-padT-padB) }

	var b strings.Builder
	header(&b, c.title)
	axes(&b, c.xLabel, c.yLabel)
	for _, t := range yTicks {
		y := py(t.at)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", padL, y, plotW-padR, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", padL-6, y+4, t.label)
	}
	for _, t := range xTicks {
		x := px(t.at)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`+"\n", x, padT, x, plotH-padB)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x, plotH-padB+16, t.label)
	}
	if c.hline != nil {
		y := py(c.hline.at)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#888" stroke-dasharray="2,3"/>`+"\n", padL, y, plotW-padR, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="#666">%s</text>`+"\n", padL+4, y-4, html.EscapeString(c.hline.label))
	}
	for i, s := range c.series {
		color := palette[i%len(palette)]
		if s.color != "" {
			color = s.color
		}
		var pts []string
		for j := range s.xs {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(s.xs[j]), py(s.ys[j])))
		}
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="6,4"`
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`+"\n", color, dash, strings.Join(pts, " "))
		if len(pts) <= 30 {
			for j := range s.xs {
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", px(s.xs[j]), py(s.ys[j]), color)
			}
		}
		legend(&b, i, s.name, color, s.dashed)
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// barChart draws groups of bars: one group per category, one bar per series.
type barChart struct {
	title, yLabel string
	categories    []string
	series        []series // ys[i] is the bar of categories[i]
	hline         *tick
}

func (c barChart) svg() []byte {
	ymax := 0.0
	for _, s := range c.series {
		for _, y := range s.ys {
			ymax = math.Max(ymax, y)
		}
	}
	if c.hline != nil {
		ymax = math.Max(ymax, c.hline.at)
	}
	yTicks := niceTicks(0, ymax)
	ymax = yTicks[len(yTicks)-1].at
	py := func(y float64) float64 { return plotH - padB - y/ymax*(plotH-padT-padB) }
	groupW := (plotW - padL - padR) / float64(max(1, len(c.categories)))
	barW := groupW * 0.8 / float64(max(1, len(c.series)))

	var b strings.Builder
	header(&b, c.title)
	axes(&b, "", c.yLabel)
	for _, t := range yTicks {
		y := py(t.at)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", padL, y, plotW-padR, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", padL-6, y+4, t.label)
	}
	for i, cat := range c.categories {
		x0 := padL + float64(i)*groupW + groupW*0.1
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", padL+(float64(i)+0.5)*groupW, plotH-padB+16, html.EscapeString(cat))
		for j, s := range c.series {
			if i >= len(s.ys) {
				continue
			}
			y := py(s.ys[i])
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n",
				x0+float64(j)*barW, y, barW*0.9, plotH-padB-y, palette[j%len(palette)])
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10">%s</text>`+"\n",
				x0+(float64(j)+0.45)*barW, y-3, formatNum(s.ys[i]))
		}
	}
	if c.hline != nil {
		y := py(c.hline.at)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#888" stroke-dasharray="2,3"/>`+"\n", padL, y, plotW-padR, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="#666">%s</text>`+"\n", padL+4, y-4, html.EscapeString(c.hline.label))
	}
	for j, s := range c.series {
		legend(&b, j, s.name, palette[j%len(palette)], false)
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

func header(b *strings.Builder, title string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", plotW, plotH, plotW, plotH)
	fmt.Fprintf(b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(b, `<text x="%d" y="22" text-anchor="middle" font-size="15">%s</text>`+"\n", plotW/2, html.EscapeString(title))
}

func axes(b *strings.Builder, xLabel, yLabel string) {
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", padL, plotH-padB, plotW-padR, plotH-padB)
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", padL, padT, padL, plotH-padB)
	fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", padL+(plotW-padL-padR)/2, plotH-12, html.EscapeString(xLabel))
	fmt.Fprintf(b, `<text transform="translate(18,%.1f) rotate(-90)" text-anchor="middle">%s</text>`+"\n", padT+(plotH-padT-padB)/2, html.EscapeString(yLabel))
}

func legend(b *strings.Builder, i int, name, color string, dashed bool) {
	x, y := plotW-padR+14, padT+10+float64(i)*20
	dash := ""
	if dashed {
		dash = ` stroke-dasharray="6,4"`
	}
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="3"%s/>`+"\n", x, y, x+22, y, color, dash)
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", x+28, y+4, html.EscapeString(name))
}

// niceTicks covers [lo, hi] with about five round steps (1, 2 or 5 × 10^k).
func niceTicks(lo, hi float64) []tick {
	if hi <= lo {
		hi = lo + 1
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ts []tick
	for v := math.Floor(lo/step) * step; ; v += step {
		ts = append(ts, tick{at: v, label: formatNum(v)})
		if v >= hi-1e-9 {
			break
		}
	}
	return ts
}

func formatNum(v float64) string {
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e6:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.2g", v)
	}
}

// percentileSeries is a latency distribution on the "nines" scale, x =
// -log10(1-q): 1 is p90, 2 p99, 3 p99.9, where latency plots look at tails.
func percentileSeries(name, color string, sorted []time.Duration, dashed bool) series {
	s := series{name: name, dashed: dashed, color: color}
	if len(sorted) == 0 {
		return s
	}
	for x := 0.0; x <= 3.0001; x += 0.05 {
		q := 1 - math.Pow(10, -x)
		s.xs = append(s.xs, x)
		s.ys = append(s.ys, pct(sorted, q))
	}
	return s
}

var ninesTicks = []tick{{0, "p0"}, {math.Log10(2), "p50"}, {1, "p90"}, {2, "p99"}, {3, "p99.9"}}

func (b *bench) writePlot(name string, svg []byte) error {
	if b.opts.plotDir == "" {
		return nil
	}
	if err := os.MkdirAll(b.opts.plotDir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(b.opts.plotDir, name)
	fmt.Fprintf(b.log, "chatbench: wrote %s\n", path)
	return os.WriteFile(path, svg, 0o644)
}

// plotLoad draws a load run: latency by percentile and p99 by second.
func (b *bench) plotLoad(scenario string, rs []*result) error {
	if b.opts.plotDir == "" || len(rs) == 0 {
		return nil
	}
	load := fmt.Sprintf("%.0f msg/s, %d connections", rs[0].Rate, rs[0].Connections)
	dist := lineChart{title: scenario + ": latency by percentile (" + load + ")",
		xLabel: "percentile", yLabel: "ms from scheduled send", xTicks: ninesTicks}
	timeline := lineChart{title: scenario + ": delivery p99 of each second (" + load + ")",
		xLabel: "second of the run", yLabel: "delivery p99, ms"}
	for i, r := range rs {
		color := palette[i%len(palette)]
		dist.series = append(dist.series,
			percentileSeries(r.System+" delivery", color, r.deliveryLat, false),
			percentileSeries(r.System+" send", color, r.sendLat, true))
		s := series{name: r.System, color: color}
		for i, v := range r.DeliveryP99BySecond {
			s.xs, s.ys = append(s.xs, float64(i)), append(s.ys, v)
		}
		timeline.series = append(timeline.series, s)
	}
	if err := b.writePlot(scenario+"-latency.svg", dist.svg()); err != nil {
		return err
	}
	return b.writePlot(scenario+"-timeline.svg", timeline.svg())
}

func (b *bench) plotMaxRate(all []maxRateResult) error {
	c := lineChart{title: "max-rate: delivery p99 by offered rate (100 connections)",
		xLabel: "messages per second", yLabel: "delivery p99, ms", hline: &tick{b.opts.maxRateP99, fmt.Sprintf("%.0f ms limit", b.opts.maxRateP99)}}
	for _, mr := range all {
		s := series{name: mr.System}
		for _, r := range mr.Steps {
			s.xs, s.ys = append(s.xs, r.Rate), append(s.ys, math.Min(r.DeliveryP99, 2*b.opts.maxRateP99))
		}
		c.series = append(c.series, s)
	}
	return b.writePlot("max-rate.svg", c.svg())
}
