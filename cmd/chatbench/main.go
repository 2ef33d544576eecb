// Command chatbench is chatwire's load generator. It signs in simulated users
// with HS256 tokens, subscribes receivers over the Pusher protocol (through
// chatwire's /api/pusher/auth), sends through POST /api/messages/send on an
// open-loop schedule, and reports send and delivery latency, throughput,
// losses and duplicates as a table (and JSON with -json, SVG plots with
// -plot). It also measures cold start, poll and history latency as the
// message table grows, and the same load against an idiomatic Socket.IO + pg
// peer. Loopback only. BENCHMARKS.md ("chatbench") has the commands and the
// figures; `chatbench -h` lists the flags and scenarios.
//
// It exits non-zero when any message was lost or delivered twice.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "chatbench: %v\n", err)
		var usage *usageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// run is the whole program; args are os.Args, configuration comes from getenv.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 1 && args[1] == childServeArg {
		return serveChild(ctx, getenv, os.Stdin, stdout)
	}
	if len(args) > 1 && args[1] == childRelayArg {
		return relayChild(ctx, getenv, os.Stdin, stdout)
	}
	opts, err := parseFlags(args[1:], stdout, stderr)
	if err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	b := &bench{opts: opts, getenv: getenv, out: stdout, log: stderr}
	return b.run(ctx)
}
