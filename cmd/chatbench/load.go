package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// system is what a load run drives: chatwire or the Socket.IO peer.
type system interface {
	name() string
	// connectReceiver connects user, subscribed to its chats with the users
	// of from; each new-message calls onMsg with the message's client_id and
	// arrival time.
	connectReceiver(ctx context.Context, user string, from []string, onMsg func(clientID string, at time.Time)) (io.Closer, error)
	newSender(ctx context.Context, user string) (sender, error)
	// serverPID is the server's process, for its memory and CPU; 0 if unknown.
	serverPID() int
	// dbApp is the application_name of the server's Postgres sessions.
	dbApp() string
	close()
}

// sender sends as one user; send returns once the server acknowledged.
type sender interface {
	send(ctx context.Context, to, clientID, body string) error
	Close() error
}

// loadSpec is one load run.
type loadSpec struct {
	scenario string
	rate     float64
	duration time.Duration
	// thenRate and thenDuration, when set, follow the measured run at rate
	// with a second stretch at thenRate (overload: twice the maximum, then
	// half of it). The warm-up runs at thenRate then.
	thenRate     float64
	thenDuration time.Duration
	warmup       time.Duration
	grace        time.Duration
	connections  int
	senders      int
	inflight     int
}

func (s loadSpec) messages(d time.Duration) int { return max(1, int(s.rate*d.Seconds())) }

// thenMessages is the number of messages of the second stretch.
func (s loadSpec) thenMessages() int { return int(s.thenRate * s.thenDuration.Seconds()) }

// perSenderRate is the most messages per second one simulated user sends:
// below chatwire's default SEND_RATE_LIMIT (20 per 10 s, refilled at 2/s),
// so the limiter runs on every send, as deployed, but never refuses one.
const perSenderRate = 1.5

// withSenders raises senders to what the rate needs at perSenderRate, then
// to a divisor or a multiple of the connections, so that each receiver
// chats with few senders: message i goes from sender i%senders to receiver
// i%connections.
func (s loadSpec) withSenders() loadSpec {
	n := max(s.senders, int(math.Ceil(s.rate/perSenderRate)))
	c := s.connections
	switch {
	case n <= c:
		for c%n != 0 {
			n++
		}
	default:
		n = (n + c - 1) / c * c
	}
	s.senders = n
	return s
}

// sendersOf lists the senders whose messages receiver k gets.
func (s loadSpec) sendersOf(k int) []string {
	g := gcd(s.senders, s.connections)
	var users []string
	for j := k % g; j < s.senders; j += g {
		users = append(users, senderUser(j))
	}
	return users
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// messageBody is a chat message of a typical length.
const messageBody = "chatbench message of a typical length, about sixty characters"

// phase is one schedule of messages: the warm-up or the measured run. The
// client_id of message i is tag-i, which is how deliveries find it.
type phase struct {
	tag      string
	start    time.Time
	n        int
	rate     float64
	n1       int     // with rate2: messages at rate, the rest at rate2
	rate2    float64 // 0: every message at rate
	conns    int
	msgs     []msgState
	strays   atomic.Int64 // deliveries to a receiver the message was not for
	errCount atomic.Int64
	unpub    atomic.Int64
	firstErr atomic.Pointer[string]
}

// msgState is one message; times are nanoseconds since the phase's start.
type msgState struct {
	sendDone   atomic.Int64
	sendOK     atomic.Bool
	delivered  atomic.Int64 // 0 until the first delivery
	deliveries atomic.Int32
}

func (p *phase) scheduled(i int) time.Duration {
	if p.rate2 == 0 || i < p.n1 {
		return time.Duration(float64(i) * float64(time.Second) / p.rate)
	}
	return time.Duration(float64(p.n1)*float64(time.Second)/p.rate + float64(i-p.n1)*float64(time.Second)/p.rate2)
}

// seconds is how many seconds the schedule spans.
func (p *phase) seconds() int {
	return int(math.Ceil((p.scheduled(p.n-1) + time.Nanosecond).Seconds()))
}

// loadHarness holds the connected clients of one system.
type loadHarness struct {
	sys       system
	spec      loadSpec
	receivers []io.Closer
	senders   []sender
	current   atomic.Pointer[phase]
}

func receiverUser(k int) string { return "r" + strconv.Itoa(k) }
func senderUser(j int) string   { return "s" + strconv.Itoa(j) }

// runLoad connects the clients, runs the warm-up and the measured phase, and
// returns the measured phase's result.
func runLoad(ctx context.Context, sys system, spec loadSpec, db *database, log io.Writer) (*result, error) {
	spec = spec.withSenders()
	h := &loadHarness{sys: sys, spec: spec}
	defer h.close()
	fmt.Fprintf(log, "chatbench: %s %s: connecting %d receivers and %d senders\n", sys.name(), spec.scenario, spec.connections, spec.senders)
	if err := h.connect(ctx); err != nil {
		return nil, err
	}
	if spec.warmup > 0 {
		warm := h.newPhase(spec.messages(spec.warmup))
		if spec.thenRate > 0 {
			warm = h.newPhase(max(1, int(spec.thenRate*spec.warmup.Seconds())))
			warm.rate = spec.thenRate
		}
		fmt.Fprintf(log, "chatbench: %s %s: warm-up %s at %.0f msg/s\n", sys.name(), spec.scenario, spec.warmup, warm.rate)
		h.runPhase(ctx, warm)
	}
	fmt.Fprintf(log, "chatbench: %s %s: %s at %.0f msg/s, %d connections\n", sys.name(), spec.scenario, spec.duration, spec.rate, spec.connections)
	if err := db.resetStatements(ctx); err != nil {
		return nil, err
	}
	cost := startCost(ctx, sys, db)
	shed0 := shedOf(sys)
	samples := startSampling(ctx, sys, db)
	p := h.newPhase(spec.messages(spec.duration) + spec.thenMessages())
	if spec.thenRate > 0 {
		p.n1, p.rate2 = spec.messages(spec.duration), spec.thenRate
	}
	lags := h.runPhase(ctx, p)
	usage := samples.stop()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := summarize(sys.name(), spec, p, lags, usage)
	r.Shed = int(shedOf(sys) - shed0)
	var err error
	if r.Statements, err = db.topStatements(ctx, r.Sent); err != nil {
		return nil, err
	}
	if r.Cost, err = cost.stop(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

func (h *loadHarness) connect(ctx context.Context) error {
	h.receivers = make([]io.Closer, h.spec.connections)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for k := range h.spec.connections {
		g.Go(func() error {
			r, err := h.sys.connectReceiver(gctx, receiverUser(k), h.spec.sendersOf(k), func(id string, at time.Time) {
				h.delivered(k, id, at)
			})
			if err != nil {
				return fmt.Errorf("receiver %d: %w", k, err)
			}
			h.receivers[k] = r
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	h.senders = make([]sender, h.spec.senders)
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(16)
	for j := range h.spec.senders {
		g.Go(func() error {
			s, err := h.sys.newSender(gctx, senderUser(j))
			if err != nil {
				return fmt.Errorf("sender %d: %w", j, err)
			}
			h.senders[j] = s
			return nil
		})
	}
	return g.Wait()
}

func (h *loadHarness) close() {
	for _, r := range h.receivers {
		if r != nil {
			r.Close()
		}
	}
	for _, s := range h.senders {
		if s != nil {
			s.Close()
		}
	}
}

func (h *loadHarness) newPhase(n int) *phase {
	p := &phase{tag: randomHex(4), n: n, rate: h.spec.rate, conns: h.spec.connections, msgs: make([]msgState, n)}
	h.current.Store(p)
	return p
}

// delivered records a new-message that reached receiver k.
func (h *loadHarness) delivered(k int, clientID string, at time.Time) {
	p := h.current.Load()
	tag, index, ok := strings.Cut(clientID, "-")
	if p == nil || !ok || tag != p.tag {
		return // the warm-up's, or not ours
	}
	i, err := strconv.Atoi(index)
	if err != nil || i < 0 || i >= p.n {
		return
	}
	if i%p.conns != k {
		p.strays.Add(1)
		return
	}
	m := &p.msgs[i]
	if m.deliveries.Add(1) == 1 {
		m.delivered.Store(int64(max(1, at.Sub(p.start))))
	}
}

// runPhase sends p's messages on a fixed schedule, message i at start +
// i/rate, whether or not earlier sends have answered (open loop): a slow
// server makes later sends wait in the queue, and since latency is measured
// from the scheduled time, that wait counts instead of hiding (no coordinated
// omission). It returns how late the dispatcher itself was, per message.
func (h *loadHarness) runPhase(ctx context.Context, p *phase) []time.Duration {
	inflight := make(chan struct{}, h.spec.inflight)
	var wg sync.WaitGroup
	lags := make([]time.Duration, 0, p.n)
	p.start = time.Now().Add(20 * time.Millisecond)
	timer := time.NewTimer(0)
	<-timer.C
	for i := range p.n {
		due := p.start.Add(p.scheduled(i))
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				wg.Wait()
				return lags
			}
		}
		lags = append(lags, time.Since(due))
		k := i % h.spec.connections
		s := h.senders[i%h.spec.senders]
		wg.Add(1)
		go func() {
			defer wg.Done()
			inflight <- struct{}{}
			err := s.send(ctx, receiverUser(k), p.tag+"-"+strconv.Itoa(i), messageBody)
			<-inflight
			m := &p.msgs[i]
			m.sendDone.Store(int64(time.Since(p.start)))
			switch {
			case err == nil:
				m.sendOK.Store(true)
			case errors.Is(err, errUnpublished):
				m.sendOK.Store(true)
				p.unpub.Add(1)
			default:
				if p.errCount.Add(1) == 1 {
					msg := err.Error()
					p.firstErr.Store(&msg)
				}
			}
		}()
	}
	wg.Wait()
	// Deliveries may trail the last answer (they may also precede it).
	deadline := time.Now().Add(h.spec.grace)
	for time.Now().Before(deadline) && ctx.Err() == nil && !p.allDelivered() {
		time.Sleep(20 * time.Millisecond)
	}
	return lags
}

func (p *phase) allDelivered() bool {
	for i := range p.msgs {
		if p.msgs[i].sendOK.Load() && p.msgs[i].delivered.Load() == 0 {
			return false
		}
	}
	return true
}
