package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// options are the command line.
type options struct {
	scenario string

	// One load run (the default scenario, "custom").
	duration    time.Duration
	warmup      time.Duration
	rate        float64
	connections int
	senders     int
	inflight    int
	grace       time.Duration

	peer       bool // also run the load against the Socket.IO peer
	peerNextJS bool // and against the Next.js route peer
	peerDir    string
	node       string
	pool       int // Postgres pool size of the chatwire server and of the peer

	// An external chatwire instead of the in-process one.
	target     string
	pusherHost string
	pusherKey  string
	jwtSecret  string

	coldRuns    int
	growthSizes []int
	growthIters int
	maxRateStep time.Duration
	maxRateP99  float64
	maxRateFrom float64

	jsonFile   string
	plotDir    string
	cpuProfile string
	// pgStatements loads pg_stat_statements in the private Postgres and
	// reports each run's statements.
	pgStatements bool

	// set names the flags given on the command line, which win over a
	// scenario's settings.
	set map[string]bool
}

const usageText = `Usage: chatbench [flags]

Scenarios (-scenario NAME; without one, a single run from the load flags):
  smoke           20 connections, 50 msg/s for 3 s; for CI
  free-tier       100 connections at 100 msg/s for 30 s
  1k-connections  1,000 connections at 200 msg/s for 30 s
  sustained       100 connections at 1,000 msg/s for 30 s
  max-rate        steps the rate up in short runs; the highest whose delivery
                  p99 stays under 500 ms with no loss and no errors
  cold-start      a fresh function process (api/messages/send.go's handler)
                  to its first successful send; median of -cold-runs
  overload        twice -rate (default 1,000/s) for 10 s, then half of -rate
                  for 20 s: when delivery p99 is back under 100 ms, and
                  nothing lost (senders retry 429/503 after Retry-After)
  growth          poll and history latency with 10k, 100k and 1M stored
                  messages, in a private Postgres, with the query plans
  relay           chatwire relay (lib/relay) in a child process: sends with and
                  without it (and the events it published again), legacy-writer
                  rows it alone delivers, its CPU and Postgres cost per event,
                  and its recovery after a 10 s Pusher outage
  all             every scenario above but smoke and relay, with -peer

With no -target it starts what it needs: DATABASE_URL's server if set, else
a private Postgres (lib/localpg) in a temp dir, in a fresh chatbench_*
database; chatwire (httpapi.NewHandler) and lib/pusherlocal in a child
process on 127.0.0.1:0. Everything stays on loopback.

It exits non-zero when a message was lost (sent but not delivered within
-grace) or delivered twice to the same receiver.

Flags:
`

var errHelp = errors.New("help requested")

// usageError is a command line chatbench cannot make sense of (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func parseFlags(args []string, stdout, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("chatbench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.scenario, "scenario", "", "smoke, free-tier, 1k-connections, sustained, max-rate, cold-start, growth, all")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of the measured run")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured run at the same rate before it")
	fs.Float64Var(&o.rate, "rate", 100, "messages per second, on a fixed open-loop schedule")
	fs.IntVar(&o.connections, "connections", 100, "receivers, one WebSocket each")
	fs.IntVar(&o.senders, "senders", 10, "sending users at least; raised so that none sends over 1.5 msg/s (chatwire's default SEND_RATE_LIMIT refills 2/s)")
	fs.IntVar(&o.inflight, "inflight", 512, "most sends in flight at once (a later send waits, and the wait counts)")
	fs.DurationVar(&o.grace, "grace", 5*time.Second, "how long after the last send a delivery may still arrive")
	fs.BoolVar(&o.peer, "peer", false, "run the same load against the Socket.IO + pg peer too, and report ratios")
	fs.BoolVar(&o.peerNextJS, "peer-nextjs", false, "run the same load against the Next.js route peer too (bench/nextjs-route: verify the JWT, INSERT, pusher.trigger), and report ratios; built once with next build under the temp dir")
	fs.StringVar(&o.peerDir, "peer-dir", "", "directory of the peer's server.mjs (default bench/socketio in the repository)")
	fs.StringVar(&o.node, "node", "node", "Node.js binary for the peer")
	fs.IntVar(&o.pool, "pool", 10, "Postgres connections of the chatwire server and of the peer (pg's default is 10)")
	fs.StringVar(&o.target, "target", "", "base URL of an external chatwire (loopback only); needs -pusher-host, -pusher-key, -jwt-secret")
	fs.StringVar(&o.pusherHost, "pusher-host", "", "host:port of the external chatwire's Pusher-protocol server")
	fs.StringVar(&o.pusherKey, "pusher-key", "", "its app key (default $PUSHER_KEY)")
	fs.StringVar(&o.jwtSecret, "jwt-secret", "", "the external chatwire's AUTH_JWT_SECRET (default $AUTH_JWT_SECRET)")
	fs.IntVar(&o.coldRuns, "cold-runs", 20, "cold starts measured by -scenario cold-start")
	sizes := fs.String("growth-sizes", "10000,100000,1000000", "stored messages at which growth measures")
	fs.IntVar(&o.growthIters, "growth-iters", 1000, "polls and history pages measured at each size")
	fs.DurationVar(&o.maxRateStep, "step", 8*time.Second, "length of each max-rate step")
	fs.Float64Var(&o.maxRateP99, "max-p99", 500, "delivery p99 (ms) a max-rate step must stay under")
	fs.Float64Var(&o.maxRateFrom, "max-from", 0, "first max-rate step (msg/s): skip the lower ones")
	fs.StringVar(&o.jsonFile, "json", "", "write the results as JSON to this file")
	fs.StringVar(&o.plotDir, "plot", "", "write SVG latency plots to this directory")
	fs.BoolVar(&o.pgStatements, "pg-statements", false, "report the Postgres statements of each run, with their cost per message (pg_stat_statements; private Postgres only)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the chatwire server process (all its runs) to this file")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout, fs)
			return o, errHelp
		}
		printUsage(stderr, fs)
		return o, &usageError{err.Error()}
	}
	o.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	if fs.NArg() > 0 {
		printUsage(stderr, fs)
		return o, &usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return o, &usageError{fmt.Sprintf("-growth-sizes: %q is not a positive number", s)}
		}
		o.growthSizes = append(o.growthSizes, n)
	}
	switch {
	case o.rate <= 0:
		return o, &usageError{"-rate must be positive"}
	case o.connections < 1 || o.senders < 1 || o.inflight < 1 || o.pool < 1:
		return o, &usageError{"-connections, -senders, -inflight and -pool must be at least 1"}
	case o.duration <= 0:
		return o, &usageError{"-duration must be positive"}
	}
	if _, ok := scenarios()[o.scenario]; !ok && o.scenario != "" {
		return o, &usageError{fmt.Sprintf("unknown scenario %q", o.scenario)}
	}
	return o, nil
}

func printUsage(w io.Writer, fs *flag.FlagSet) {
	io.WriteString(w, usageText)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}
