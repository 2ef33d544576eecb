package main

import (
	"bytes"
	"encoding/xml"
	"slices"
	"testing"
	"time"
)

func TestPctIsNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want float64
	}{{0, 1}, {.5, 50}, {.95, 95}, {.99, 99}, {1, 100}} {
		if got := pct(d, tc.q); got != tc.want {
			t.Errorf("pct(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if got := pct(nil, .99); got != 0 {
		t.Errorf("pct of nothing = %v, want 0", got)
	}
}

// Every message i goes from sender i%S to receiver i%C; the receiver must be
// subscribed to that sender's chat, and no sender may exceed perSenderRate.
func TestSendersCoverEveryMessage(t *testing.T) {
	for _, spec := range []loadSpec{
		{rate: 50, connections: 20, senders: 4},
		{rate: 100, connections: 100, senders: 10},
		{rate: 200, connections: 1000, senders: 20},
		{rate: 1000, connections: 100, senders: 20},
		{rate: 3600, connections: 100, senders: 1},
		{rate: 10, connections: 7, senders: 3},
	} {
		s := spec.withSenders()
		if float64(s.senders)*perSenderRate < s.rate {
			t.Errorf("%+v: %d senders send %.2f/s each", spec, s.senders, s.rate/float64(s.senders))
		}
		subscribed := make([][]string, s.connections)
		for k := range s.connections {
			subscribed[k] = s.sendersOf(k)
		}
		for i := range 3 * s.senders * s.connections {
			k := i % s.connections
			if !slices.Contains(subscribed[k], senderUser(i%s.senders)) {
				t.Fatalf("%+v: receiver %d is not subscribed to sender %d", spec, k, i%s.senders)
			}
		}
	}
}

func TestDeliveredCountsDuplicatesAndStrays(t *testing.T) {
	h := &loadHarness{spec: loadSpec{connections: 2}}
	p := h.newPhase(4)
	p.start = time.Now()
	at := p.start.Add(time.Millisecond)
	h.delivered(0, p.tag+"-0", at)
	h.delivered(0, p.tag+"-0", at) // twice to the same receiver
	h.delivered(0, p.tag+"-1", at) // message 1 is receiver 1's
	h.delivered(1, "other-1", at)  // another phase's
	h.delivered(1, p.tag+"-9", at) // out of range
	if got := p.msgs[0].deliveries.Load(); got != 2 {
		t.Errorf("deliveries of message 0 = %d, want 2", got)
	}
	if got := p.strays.Load(); got != 1 {
		t.Errorf("strays = %d, want 1", got)
	}
	if got := p.msgs[1].deliveries.Load(); got != 0 {
		t.Errorf("deliveries of message 1 = %d, want 0", got)
	}
}

func TestPlotsAreWellFormedSVG(t *testing.T) {
	line := lineChart{title: "t <&>", xLabel: "x", yLabel: "y", hline: &tick{5, "target"},
		series: []series{{name: "a", xs: []float64{0, 1, 2}, ys: []float64{1, 4, 2}}, {name: "b", dashed: true}}}
	bar := barChart{title: "bars", yLabel: "ms", categories: []string{"10k", "1M"},
		series: []series{{name: "p50", ys: []float64{1, 2}}, {name: "p99", ys: []float64{3}}}}
	for name, svg := range map[string][]byte{"line": line.svg(), "bar": bar.svg()} {
		dec := xml.NewDecoder(bytes.NewReader(svg))
		for {
			if _, err := dec.Token(); err != nil {
				if err.Error() != "EOF" {
					t.Errorf("%s: not well-formed XML: %v", name, err)
				}
				break
			}
		}
	}
}

func TestNiceTicksCoverTheRange(t *testing.T) {
	for _, r := range [][2]float64{{0, 1}, {0, 7.3}, {0, 480}, {100, 4000}, {0, 0}} {
		ts := niceTicks(r[0], r[1])
		if ts[0].at > r[0] || ts[len(ts)-1].at < r[1] || len(ts) > 12 {
			t.Errorf("niceTicks(%v, %v) = %v", r[0], r[1], ts)
		}
	}
}

func TestRecoveredAfterIsTheFirstSecondFromWhichEveryP99StaysUnder100ms(t *testing.T) {
	// The overload ends at second 2.
	for _, tc := range []struct {
		p99  []float64
		want int
	}{
		{[]float64{5, 900, 800, 50, 40}, 1},
		{[]float64{5, 900, 800, 300, 40, 30}, 2},
		{[]float64{5, 900, 800, 50, 40, 150}, -1},
		{[]float64{5, 6, 7, 8}, 0},
	} {
		if got := recoveredAfter(tc.p99, 2); got != tc.want {
			t.Errorf("recoveredAfter(%v, 2) = %d, want %d", tc.p99, got, tc.want)
		}
	}
}

func TestPhaseScheduleWithASecondRate(t *testing.T) {
	p := &phase{n: 30, rate: 10, n1: 20, rate2: 5}
	if got, want := p.scheduled(19), 1900*time.Millisecond; got != want {
		t.Errorf("message 19 at %v, want %v", got, want)
	}
	if got, want := p.scheduled(20), 2*time.Second; got != want {
		t.Errorf("message 20 at %v, want %v", got, want)
	}
	if got, want := p.scheduled(29), 3800*time.Millisecond; got != want {
		t.Errorf("message 29 at %v, want %v", got, want)
	}
	if got, want := p.seconds(), 4; got != want {
		t.Errorf("seconds = %d, want %d", got, want)
	}
}
