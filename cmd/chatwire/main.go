// Command chatwire runs chatwire outside Vercel: the whole API on one port
// (serve), a complete local setup with no account (dev), the schema
// migrations (migrate), development tokens (token) and the built-in
// Pusher-protocol server alone (pusher). Run `chatwire -h` for the commands.
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
	// SIGINT (Ctrl-C) and SIGTERM (docker stop, Railway, Fly.io) cancel ctx;
	// every command treats that as "stop cleanly".
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "chatwire: %v\n", err)
		os.Exit(exitCode(err))
	}
}

// run is the whole program. args are os.Args (the program name first), and
// configuration comes only from getenv, so tests run the real thing with an
// environment of their own and stop it by cancelling ctx.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c := &cli{getenv: getenv, stdout: stdout, stderr: stderr}
	return c.run(ctx, args)
}

// exitCode is 2 for usage errors, as for flag.ExitOnError, and 1 otherwise.
func exitCode(err error) int {
	var usage *usageError
	if errors.As(err, &usage) {
		return 2
	}
	return 1
}
