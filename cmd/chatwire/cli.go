package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// cli carries what run received to the commands. It exists so that tests can
// also set ready: they listen on port 0 and learn the real addresses there,
// without parsing output.
type cli struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer

	// ready, when set, is called once a long-running command (serve, dev,
	// pusher, relay) has bound its listeners and is about to serve. nil outside tests.
	ready func(listening)
}

// listening are the addresses a command serves on, as clients reach them: a
// wildcard listen address is reported as 127.0.0.1.
type listening struct {
	// App is the API's base URL, "http://127.0.0.1:3000" (serve, dev).
	App string
	// Pusher is host:port of the built-in Pusher-protocol server (dev, pusher).
	Pusher string
	// Postgres is host:port of dev's private Postgres; empty when
	// DATABASE_URL was given.
	Postgres string
	// Metrics is the base URL of /metrics and /healthz (serve, relay).
	Metrics string
}

// command is one subcommand of chatwire.
type command struct {
	name     string
	synopsis string // what follows the name in the usage line
	summary  string // one line for the command list
	run      func(c *cli, ctx context.Context, args []string) error
}

// commands lists the commands in the order of the usage text. A function,
// not a variable: the commands' own usage reads it, which would make a
// variable's initialization refer to itself.
func commands() []command {
	return []command{
		{"dev", "[--addr 127.0.0.1:4000] [--pusher-addr 127.0.0.1:6001]",
			"everything on one machine, no account: API, local Pusher server, private Postgres",
			(*cli).dev},
		{"serve", "[--addr ADDR]",
			"every route on one port, from the environment alone (VPS, Railway, Fly.io)",
			(*cli).serve},
		{"relay", "[--metrics-addr :9091] [--grace 500ms]",
			"publish what nobody published, within a second (a small worker for Fly.io, Railway, a VPS)",
			(*cli).relay},
		{"migrate", "",
			"apply the schema to DIRECT_URL, else DATABASE_URL (idempotent)",
			(*cli).migrate},
		{"legacy-writers", "on|off [--role authenticated]",
			"let old clients write messages directly during a migration, or stop them",
			(*cli).legacyWriters},
		{"token", "<user-id> [--name NAME] [--ttl 24h]",
			"print a development JWT signed with AUTH_JWT_SECRET",
			(*cli).token},
		{"pusher", "[--addr :6001] [--webhook URL]",
			"only the built-in Pusher-protocol server, a local Pusher for any app",
			(*cli).pusher},
	}
}

// run dispatches args (os.Args: the program name first) to a command.
func (c *cli) run(ctx context.Context, args []string) error {
	if len(args) < 2 {
		c.usage(c.stderr)
		return &usageError{"no command given"}
	}
	name, rest := args[1], args[2:]
	switch name {
	case "-h", "-help", "--help", "help":
		c.usage(c.stdout)
		return nil
	}
	for _, cmd := range commands() {
		if cmd.name != name {
			continue
		}
		err := cmd.run(c, ctx, rest)
		switch {
		case errors.Is(err, errHelp):
			return nil
		case err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled):
			// Interrupted while starting up: that is a stop, not a failure.
			return nil
		}
		return err
	}
	c.usage(c.stderr)
	return &usageError{fmt.Sprintf("unknown command %q", name)}
}

func (c *cli) usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("Usage: chatwire <command> [flags]\n\nCommands:\n")
	for _, cmd := range commands() {
		fmt.Fprintf(&b, "  %-14s %s\n", cmd.name, cmd.summary)
	}
	b.WriteString(`
Configuration comes from the environment (DATABASE_URL, PUSHER_*, AUTH_*, ...;
see "Configuration" in API.md). serve listens on $PORT when it is set and
--addr is not given, as Railway and Fly.io expect.

Run 'chatwire <command> -h' for the flags of a command.
`)
	io.WriteString(w, b.String())
}

// usageError is a command line the program cannot make sense of; it exits
// with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// errHelp reports that -h printed a command's usage: the command ends, with
// success.
var errHelp = errors.New("help requested")

// flagSet returns the flags of a command, whose usage shows the synopsis and
// a description.
func (c *cli) flagSet(name, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	synopsis := ""
	for _, cmd := range commands() {
		if cmd.name == name {
			synopsis = cmd.synopsis
		}
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: chatwire %s %s\n\n%s\n", name, synopsis, strings.TrimSpace(description))
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintf(fs.Output(), "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses args and returns the positional arguments. Unlike
// flag.FlagSet.Parse it accepts flags after them, so that
// `chatwire token alice --name Alice` works as people type it.
func (c *cli) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard) // we print usage ourselves, to stdout for -h
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(c.stdout)
				fs.Usage()
				return nil, errHelp
			}
			fs.SetOutput(c.stderr)
			fs.Usage()
			return nil, &usageError{fmt.Sprintf("%s: %v", fs.Name(), err)}
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// parseNoArgs is parse for commands that take flags only.
func (c *cli) parseNoArgs(fs *flag.FlagSet, args []string) error {
	positional, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if len(positional) > 0 {
		fs.SetOutput(c.stderr)
		fs.Usage()
		return &usageError{fmt.Sprintf("%s: unexpected argument %q", fs.Name(), positional[0])}
	}
	return nil
}

// announce reports the bound addresses to the test hook, if any.
func (c *cli) announce(l listening) {
	if c.ready != nil {
		c.ready(l)
	}
}
