package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// bench is one chatbench invocation: the servers it started and what it
// measured.
type bench struct {
	opts   options
	getenv func(string) string
	out    io.Writer // tables
	log    io.Writer // progress

	dir      string // temp dir: server logs, the cold-start build
	db       *database
	secrets  secrets
	chatwire *process
	peer     *process
	nextPeer *process
	sys      []system

	report report
}

// report is what -json writes.
type report struct {
	Machine   machine          `json:"machine"`
	Runs      []*result        `json:"runs,omitempty"`
	Ratios    []ratio          `json:"ratios_chatwire_over_peer,omitempty"`
	MaxRate   []maxRateResult  `json:"max_rate,omitempty"`
	ColdStart *coldStartResult `json:"cold_start,omitempty"`
	Growth    *growthResult    `json:"growth,omitempty"`
	Overload  []overloadResult `json:"overload,omitempty"`
	Relay     *relayResult     `json:"relay,omitempty"`
}

type machine struct {
	CPUs     int    `json:"nproc"`
	CPUModel string `json:"cpu_model"`
	Go       string `json:"go"`
	Node     string `json:"node,omitempty"`
	Postgres string `json:"postgres,omitempty"`
	Load     string `json:"load_average"`
}

func (b *bench) run(ctx context.Context) (err error) {
	if b.dir, err = os.MkdirTemp("", "chatbench-"); err != nil {
		return err
	}
	defer func() {
		err = errors.Join(err, b.close())
	}()
	b.secrets = newSecrets()
	b.report.Machine = readMachine(b.opts.node)
	err = scenarios()[b.opts.scenario](b, ctx)
	if b.db != nil {
		b.report.Machine.Postgres = b.db.version
	}
	if b.opts.jsonFile != "" {
		raw, jerr := json.MarshalIndent(b.report, "", "  ")
		if jerr == nil {
			jerr = os.WriteFile(b.opts.jsonFile, append(raw, '\n'), 0o644)
		}
		err = errors.Join(err, jerr)
	}
	return err
}

func (b *bench) close() error {
	for _, s := range b.sys {
		s.close()
	}
	if b.peer != nil {
		b.peer.stop()
	}
	if b.nextPeer != nil {
		b.nextPeer.stop()
	}
	if b.chatwire != nil {
		b.chatwire.stop()
	}
	var err error
	if b.db != nil {
		err = b.db.close()
	}
	return errors.Join(err, os.RemoveAll(b.dir))
}

// systems starts (once) what the load runs drive: chatwire, in a child
// process on a fresh database unless -target names one, and with -peer the
// Socket.IO peer on the same database.
func (b *bench) systems(ctx context.Context) ([]system, error) {
	if b.sys != nil {
		return b.sys, nil
	}
	o := b.opts
	if o.target != "" {
		sys, err := b.externalChatwire()
		if err != nil {
			return nil, err
		}
		b.sys = append(b.sys, sys)
	} else {
		if err := b.openDatabase(ctx, false); err != nil {
			return nil, err
		}
		p, err := startChatwire(ctx, b.db, b.secrets, o.pool, b.dir, o.cpuProfile)
		if err != nil {
			return nil, err
		}
		b.chatwire = p
		b.sys = append(b.sys, newChatwireSystem(p.addrs.App, p.addrs.Pusher, pusherKey, b.secrets.jwt, o.inflight, p.pid()))
	}
	if o.peer {
		if b.db == nil {
			return nil, errors.New("-peer needs chatbench's own database: drop -target")
		}
		p, err := startPeer(ctx, b.db, b.secrets, o, b.dir, b.log)
		if err != nil {
			return nil, err
		}
		b.peer = p
		b.sys = append(b.sys, &peerSystem{addr: fmt.Sprintf("127.0.0.1:%d", p.addrs.Port), jwtSecret: b.secrets.jwt, pid: p.pid()})
	}
	if o.peerNextJS {
		if b.chatwire == nil {
			return nil, errors.New("-peer-nextjs needs chatbench's own chatwire (its Pusher server signs the peer's subscriptions): drop -target")
		}
		built, err := buildNextPeer(ctx, b.log)
		if err != nil {
			return nil, err
		}
		p, err := startNextPeer(ctx, b.db, b.secrets, o, built, b.chatwire.addrs.Pusher, filepath.Join(b.dir, "nextjs.log"))
		if err != nil {
			return nil, err
		}
		b.nextPeer = p
		cw := b.sys[0].(*chatwireSystem)
		next := newChatwireSystem(cw.app, cw.pusherAddr, cw.pusherKey, cw.jwtSecret, o.inflight, p.pid())
		next.sendURL = fmt.Sprintf("http://127.0.0.1:%d/api/messages/send", p.addrs.Port)
		next.label = "nextjs-route"
		// The Pusher-protocol server both publish to lives in chatwire's
		// child: its CPU is part of what either system costs.
		next.extraPIDs = []int{b.chatwire.pid()}
		for pid := range treeCPU(p.pid()) { // next start's workers, if any
			if pid != p.pid() {
				next.extraPIDs = append(next.extraPIDs, pid)
			}
		}
		b.sys = append(b.sys, next)
	}
	return b.sys, nil
}

func (b *bench) openDatabase(ctx context.Context, private bool) error {
	if b.db != nil {
		return nil
	}
	db, err := openDatabase(ctx, b.getenv, private, b.opts.pgStatements, b.log)
	if err != nil {
		return err
	}
	b.db = db
	return nil
}

// externalChatwire checks that -target and -pusher-host are on loopback:
// chatbench loads nothing else.
func (b *bench) externalChatwire() (system, error) {
	o := b.opts
	key, secret := o.pusherKey, o.jwtSecret
	if key == "" {
		key = b.getenv("PUSHER_KEY")
	}
	if secret == "" {
		secret = b.getenv("AUTH_JWT_SECRET")
	}
	if o.pusherHost == "" || key == "" || secret == "" {
		return nil, &usageError{"-target needs -pusher-host, -pusher-key (or PUSHER_KEY) and -jwt-secret (or AUTH_JWT_SECRET)"}
	}
	u, err := url.Parse(o.target)
	if err != nil || u.Scheme != "http" || !isLoopback(u.Hostname()) {
		return nil, &usageError{"-target must be an http:// URL on loopback (127.0.0.1, localhost, [::1])"}
	}
	host, _, err := net.SplitHostPort(o.pusherHost)
	if err != nil || !isLoopback(host) {
		return nil, &usageError{"-pusher-host must be host:port on loopback"}
	}
	return newChatwireSystem(o.target, o.pusherHost, key, secret, o.inflight, 0), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func readMachine(node string) machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPUModel = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
				break
			}
		}
	}
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.Load = strings.Join(strings.Fields(string(raw))[:3], " ")
	}
	if out, err := exec.Command(node, "--version").Output(); err == nil {
		m.Node = strings.TrimSpace(string(out))
	}
	return m
}

func printRatio(w io.Writer, r ratio) {
	fmt.Fprintf(w, "ratio chatwire/%s (%s): send p50 %.2f, send p99 %.2f, delivery p50 %.2f, delivery p99 %.2f, server RSS %.2f, server CPU %.2f, CPU per message (server + Postgres) %.2f\n",
		r.Peer, r.Scenario, r.SendP50, r.SendP99, r.DeliveryP50, r.DeliveryP99, r.ServerRSS, r.ServerCPU, r.CPUPerMessage)
}
