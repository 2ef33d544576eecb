package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatwire/chatwire/lib/config"
	"github.com/chatwire/chatwire/lib/metrics"
	"github.com/chatwire/chatwire/lib/realtime"
	"github.com/chatwire/chatwire/lib/relay"
	"github.com/chatwire/chatwire/lib/store"
)

// childRelayArg makes chatbench run chatwire's relay (lib/relay, as
// `chatwire relay` wires it) in a child process, whose CPU time is its own.
const childRelayArg = "__relay-chatwire"

// relayResult is what -scenario relay measured.
type relayResult struct {
	// Legacy rows: written with plain SQL, published by the relay alone.
	LegacyRate      float64 `json:"legacy_rate_per_s"`
	LegacyMessages  int     `json:"legacy_messages"`
	LegacyLost      int     `json:"legacy_lost"`
	LegacyDuplicate int     `json:"legacy_duplicated"`
	DeliveryP50     float64 `json:"legacy_delivery_p50_ms"`
	DeliveryP99     float64 `json:"legacy_delivery_p99_ms"`
	DeliveryMax     float64 `json:"legacy_delivery_max_ms"`
	// Cost of the relay per event it published during the legacy run.
	RelayCPUPerEventMs    float64 `json:"relay_cpu_ms_per_event"`
	PostgresCPUPerEventMs float64 `json:"postgres_cpu_ms_per_event"`
	// LegacyStatements are the database's top statements during the legacy
	// run, per event the relay published (-pg-statements).
	LegacyStatements   []statement `json:"legacy_pg_statements,omitempty"`
	RelayCPUIdlePct    float64     `json:"relay_cpu_idle_pct"`
	PostgresCPUIdlePct float64     `json:"postgres_cpu_idle_pct"`

	// Outage: Pusher's API answers 503 to the relay while rows pile up.
	OutageS          float64 `json:"outage_s"`
	OutageMessages   int     `json:"outage_messages"`
	RecoveryFirstMs  float64 `json:"recovery_first_ms"`
	RecoveryAllMs    float64 `json:"recovery_all_ms"`
	OutageLost       int     `json:"outage_lost"`
	OutageDuplicated int     `json:"outage_duplicated"`

	// Sends through the API with and without a relay running.
	Without *result `json:"sends_without_relay"`
	With    *result `json:"sends_with_relay"`
	// RelayDuplicates counts events the relay published during the sends:
	// events their senders had published (or were still publishing).
	RelayDuplicates int     `json:"relay_duplicates"`
	DuplicateRate   float64 `json:"relay_duplicate_rate"`
}

// relayScenario measures the relay: delivery of legacy-writer rows, its CPU
// and Postgres cost per event and at idle, recovery after a Pusher outage,
// and send throughput with and without a relay running.
func (b *bench) relayScenario(ctx context.Context) error {
	systems, err := b.systems(ctx)
	if err != nil {
		return err
	}
	sys, ok := systems[0].(*chatwireSystem)
	if !ok || b.chatwire == nil {
		return &usageError{"-scenario relay needs chatbench's own chatwire: drop -target"}
	}
	res := &relayResult{}
	spec := b.spec(loadSpec{scenario: "relay-sends", connections: 100, senders: 20, rate: 500,
		duration: 15 * time.Second, warmup: 2 * time.Second})

	// Sends without a relay first.
	fmt.Fprintf(b.log, "chatbench: relay: sends without a relay\n")
	if res.Without, err = runLoad(ctx, sys, spec, b.db, b.log); err != nil {
		return err
	}

	faults := newFaultProxy(sys.pusherAddr)
	defer faults.close()
	rp, err := b.startRelayChild(ctx, faults.addr)
	if err != nil {
		return err
	}
	defer rp.stop()
	metricsURL := rp.addrs.App + "/metrics"

	fmt.Fprintf(b.log, "chatbench: relay: sends with a relay running\n")
	before, err := scrapeCounter(ctx, metricsURL, `chatwire_events_published_total{source="relay"}`)
	if err != nil {
		return err
	}
	withSpec := spec
	withSpec.scenario = "relay-sends+relay"
	if res.With, err = runLoad(ctx, sys, withSpec, b.db, b.log); err != nil {
		return err
	}
	after, err := scrapeCounter(ctx, metricsURL, `chatwire_events_published_total{source="relay"}`)
	if err != nil {
		return err
	}
	res.RelayDuplicates = int(after - before)
	// Each message is two events (new-message, message-notification).
	res.DuplicateRate = round3(float64(res.RelayDuplicates) / float64(max(1, 2*res.With.Sent)))

	// Idle cost: the relay probing an empty backlog.
	idleRelay, idlePG, err := b.measureCPU(ctx, rp.pid(), func() error {
		time.Sleep(5 * time.Second)
		return nil
	})
	if err != nil {
		return err
	}
	res.RelayCPUIdlePct = round1(idleRelay.Seconds() / 5 * 100)
	res.PostgresCPUIdlePct = round1(idlePG.Seconds() / 5 * 100)

	// Legacy rows, published by the relay alone.
	legacy := newLegacyRun(b, sys, 10)
	if err := legacy.connect(ctx); err != nil {
		return err
	}
	defer legacy.close()
	res.LegacyRate, res.LegacyMessages = 100, 2000
	fmt.Fprintf(b.log, "chatbench: relay: %d legacy rows at %.0f/s\n", res.LegacyMessages, res.LegacyRate)
	pubBefore, err := scrapeCounter(ctx, metricsURL, `chatwire_events_published_total{source="relay"}`)
	if err != nil {
		return err
	}
	if err := b.db.resetStatements(ctx); err != nil {
		return err
	}
	var lag []time.Duration
	relayCPU, pgCPU, err := b.measureCPU(ctx, rp.pid(), func() error {
		var err error
		lag, err = legacy.write(ctx, "legacy", res.LegacyMessages, res.LegacyRate, 30*time.Second)
		return err
	})
	if err != nil {
		return err
	}
	pubAfter, err := scrapeCounter(ctx, metricsURL, `chatwire_events_published_total{source="relay"}`)
	if err != nil {
		return err
	}
	events := max(1, pubAfter-pubBefore)
	if res.LegacyStatements, err = b.db.topStatements(ctx, int(events)); err != nil {
		return err
	}
	res.RelayCPUPerEventMs = round3(float64(relayCPU.Microseconds()) / 1000 / events)
	res.PostgresCPUPerEventMs = round3(float64(pgCPU.Microseconds()) / 1000 / events)
	res.LegacyLost, res.LegacyDuplicate = legacy.lost, legacy.duplicated
	slices.Sort(lag)
	res.DeliveryP50, res.DeliveryP99, res.DeliveryMax = ms(percentile(lag, 0.50)), ms(percentile(lag, 0.99)), ms(percentile(lag, 1))

	// An outage: Pusher's API refuses the relay while rows pile up, then
	// comes back; the clients stay connected throughout.
	res.OutageS, res.OutageMessages = 10, 1000
	fmt.Fprintf(b.log, "chatbench: relay: a %.0f s outage with %d rows written meanwhile\n", res.OutageS, res.OutageMessages)
	faults.failing.Store(true)
	recovered := make(chan time.Time, 1)
	go func() {
		t := time.NewTimer(time.Duration(res.OutageS * float64(time.Second)))
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		faults.failing.Store(false)
		recovered <- time.Now()
	}()
	rate := float64(res.OutageMessages) / (res.OutageS * 0.8) // all written well within the outage
	if _, err := legacy.write(ctx, "outage", res.OutageMessages, rate, 0); err != nil {
		return err
	}
	back := <-recovered
	if err := legacy.waitAll(ctx, 60*time.Second); err != nil {
		return err
	}
	first, last := legacy.deliveredRange()
	res.RecoveryFirstMs = ms(first.Sub(back))
	res.RecoveryAllMs = ms(last.Sub(back))
	res.OutageLost, res.OutageDuplicated = legacy.lost, legacy.duplicated

	b.report.Relay = res
	printRelay(b.out, res)
	if res.LegacyLost+res.OutageLost > 0 || res.LegacyDuplicate+res.OutageDuplicated > 0 {
		return fmt.Errorf("relay: legacy rows lost %d, duplicated %d", res.LegacyLost+res.OutageLost, res.LegacyDuplicate+res.OutageDuplicated)
	}
	return nil
}

func ms(d time.Duration) float64 { return round1(float64(d.Microseconds()) / 1000) }

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// measureCPU runs f and returns the CPU time the relay process and its
// Postgres sessions (found by application_name, whose backends run on this
// machine) used meanwhile.
func (b *bench) measureCPU(ctx context.Context, relayPID int, f func() error) (relayCPU, pgCPU time.Duration, err error) {
	backends := func() map[int]time.Duration {
		out := map[int]time.Duration{}
		rows, err := b.db.pool.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = 'chatwire-relay'`)
		if err != nil {
			return out
		}
		defer rows.Close()
		for rows.Next() {
			var pid int
			if rows.Scan(&pid) == nil {
				if t, ok := cpuTime(pid); ok {
					out[pid] = t
				}
			}
		}
		return out
	}
	r0, _ := cpuTime(relayPID)
	pg0 := backends()
	if err := f(); err != nil {
		return 0, 0, err
	}
	r1, _ := cpuTime(relayPID)
	for pid, t1 := range backends() {
		pgCPU += t1 - pg0[pid] // a session opened meanwhile counts whole
	}
	return r1 - r0, pgCPU, nil
}

// startRelayChild starts the relay in a child process, publishing through
// pusherHost.
func (b *bench) startRelayChild(ctx context.Context, pusherHost string) (*process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, childRelayArg)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"DATABASE_URL=" + withParams(b.db.url, map[string]string{"application_name": "chatwire-relay"}),
		"PUSHER_APP_ID=" + pusherAppID,
		"PUSHER_KEY=" + pusherKey,
		"PUSHER_SECRET=" + b.secrets.pusher,
		"PUSHER_HOST=" + pusherHost,
		"PUSHER_USE_TLS=false",
		"CHATBENCH_LOG=" + filepath.Join(b.dir, "relay.log"),
	}
	cmd.WaitDelay = 5 * time.Second
	return startProcess(ctx, cmd, filepath.Join(b.dir, "relay-stderr.log"))
}

// relayChild runs the relay with its defaults and /metrics on 127.0.0.1:0,
// prints that address as one JSON line, and runs until stdin closes or ctx
// ends.
func relayChild(ctx context.Context, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	log, closeLog, err := childLogger(getenv)
	if err != nil {
		return err
	}
	defer closeLog()
	cfg, err := config.LoadRelay(getenv)
	if err != nil {
		return err
	}
	pool, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	db := store.New(pool)
	m := metrics.New()
	m.WatchBacklog(db)
	publisher := realtime.New(cfg.Pusher, nil)
	r := relay.New(db, publisher, log, relay.Options{Observer: m.Relay()})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	line, _ := json.Marshal(childAddrs{App: "http://" + ln.Addr().String()})
	fmt.Fprintf(stdout, "%s\n", line)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		cancel()
	}()
	return r.Run(ctx)
}

// scrapeCounter reads one sample of the Prometheus text at url.
func scrapeCounter(ctx context.Context, url, series string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if value, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(value), 64)
		}
	}
	return 0, fmt.Errorf("scrape %s: no %s", url, series)
}

// faultProxy stands between the relay and the Pusher-protocol server's HTTP
// API, and answers 503 for it while failing is set.
type faultProxy struct {
	addr    string
	failing atomic.Bool
	srv     *http.Server
}

func newFaultProxy(target string) *faultProxy {
	f := &faultProxy{}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err) // loopback with port 0 does not fail
	}
	f.addr = ln.Addr().String()
	f.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.failing.Load() {
			http.Error(w, `{"error":"unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	})}
	go f.srv.Serve(ln)
	return f
}

func (f *faultProxy) close() { f.srv.Close() }

// legacyRun writes messages with plain SQL, as a legacy writer does, from
// users l0..l(n-1) to r0..r(n-1), and watches them arrive on receivers
// subscribed through chatwire.
type legacyRun struct {
	b         *bench
	sys       *chatwireSystem
	pairs     int
	receivers []io.Closer

	mu         sync.Mutex
	written    map[string]time.Time // client_id → commit
	arrived    map[string]time.Time
	duplicated int
	lost       int
}

func newLegacyRun(b *bench, sys *chatwireSystem, pairs int) *legacyRun {
	return &legacyRun{b: b, sys: sys, pairs: pairs}
}

func legacySender(k int) string { return "l" + strconv.Itoa(k) }

func (l *legacyRun) connect(ctx context.Context) error {
	for k := range l.pairs {
		r, err := l.sys.connectReceiver(ctx, receiverUser(k), []string{legacySender(k)}, l.arrive)
		if err != nil {
			return err
		}
		l.receivers = append(l.receivers, r)
	}
	return nil
}

func (l *legacyRun) close() {
	for _, r := range l.receivers {
		r.Close()
	}
}

func (l *legacyRun) arrive(clientID string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ours := l.written[clientID]; !ours {
		return
	}
	if _, seen := l.arrived[clientID]; seen {
		l.duplicated++
		return
	}
	l.arrived[clientID] = at
}

// write inserts n rows at rate per second, each in its own transaction, then
// (when wait > 0) waits up to wait for them all and returns each one's delay
// from commit to arrival.
func (l *legacyRun) write(ctx context.Context, tag string, n int, rate float64, wait time.Duration) ([]time.Duration, error) {
	l.mu.Lock()
	l.written, l.arrived, l.duplicated, l.lost = map[string]time.Time{}, map[string]time.Time{}, 0, 0
	l.mu.Unlock()
	start := time.Now()
	for i := range n {
		if d := time.Until(start.Add(time.Duration(float64(i) * float64(time.Second) / rate))); d > 0 {
			time.Sleep(d)
		}
		k := i % l.pairs
		id := tag + "-" + strconv.Itoa(i)
		// Recorded before the insert: a delivery may beat the return.
		l.mu.Lock()
		l.written[id] = time.Time{}
		l.mu.Unlock()
		if _, err := l.b.db.pool.Exec(ctx, `INSERT INTO messages (sender_id, receiver_id, body, client_id) VALUES ($1, $2, $3, $4)`,
			legacySender(k), receiverUser(k), messageBody, id); err != nil {
			return nil, fmt.Errorf("legacy insert: %w", err)
		}
		l.mu.Lock()
		l.written[id] = time.Now()
		l.mu.Unlock()
	}
	if wait <= 0 {
		return nil, nil
	}
	if err := l.waitAll(ctx, wait); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var lags []time.Duration
	for id, at := range l.arrived {
		lags = append(lags, max(0, at.Sub(l.written[id])))
	}
	return lags, nil
}

// waitAll waits until every row written arrived, or wait passed; what did
// not arrive by then counts as lost. It then lingers a second for
// duplicates.
func (l *legacyRun) waitAll(ctx context.Context, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		l.mu.Lock()
		done := len(l.arrived) == len(l.written)
		l.mu.Unlock()
		if done {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	time.Sleep(time.Second)
	l.mu.Lock()
	l.lost = len(l.written) - len(l.arrived)
	l.mu.Unlock()
	return nil
}

// deliveredRange is the first and last arrival.
func (l *legacyRun) deliveredRange() (first, last time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, at := range l.arrived {
		if first.IsZero() || at.Before(first) {
			first = at
		}
		if at.After(last) {
			last = at
		}
	}
	return first, last
}

func printRelay(w io.Writer, r *relayResult) {
	fmt.Fprintf(w, "== relay\n")
	fmt.Fprintf(w, "legacy rows (%d at %.0f/s, relay only): delivery p50 %.1f ms, p99 %.1f ms, max %.1f ms; lost %d, duplicated %d\n",
		r.LegacyMessages, r.LegacyRate, r.DeliveryP50, r.DeliveryP99, r.DeliveryMax, r.LegacyLost, r.LegacyDuplicate)
	fmt.Fprintf(w, "relay cost per event published: %.3f ms CPU in the relay, %.3f ms CPU in its Postgres sessions; idle: %.1f%% and %.1f%% of a core\n",
		r.RelayCPUPerEventMs, r.PostgresCPUPerEventMs, r.RelayCPUIdlePct, r.PostgresCPUIdlePct)
	if len(r.LegacyStatements) > 0 {
		printStatements(w, &result{System: "legacy run, per event the relay published", Statements: r.LegacyStatements})
	}
	fmt.Fprintf(w, "outage (%.0f s of 503, %d rows meanwhile): first delivery %.0f ms after recovery, all %.0f ms after; lost %d, duplicated %d\n",
		r.OutageS, r.OutageMessages, r.RecoveryFirstMs, r.RecoveryAllMs, r.OutageLost, r.OutageDuplicated)
	for _, s := range []*result{r.Without, r.With} {
		fmt.Fprintf(w, "sends %-18s %5.0f msg/s offered, %6.1f/s done, send p50 %.1f ms p99 %.1f ms, delivery p99 %.1f ms, errors %d, lost %d, duplicated %d\n",
			s.Scenario+":", s.Rate, s.Throughput, s.SendP50, s.SendP99, s.DeliveryP99, s.Errors, s.Lost, s.Duplicated)
	}
	fmt.Fprintf(w, "relay duplicates during the sends: %d events (%.3f of the %d events sent)\n", r.RelayDuplicates, r.DuplicateRate, 2*r.With.Sent)
}
