package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/config"
)

const legacyWritersHelp = `
Lets a database role (Supabase's "authenticated") write messages directly,
for the parallel run of a move from Supabase Realtime (MIGRATION.md), or
revokes that again. "on" grants exactly: inserting its own 1:1 messages
(sender = the caller, server-set columns set by the database, body limits
and SEND_RATE_LIMIT enforced), reading its own 1:1 conversations, and marking
messages it received read. "off" revokes all of it. Both are idempotent.

It runs SELECT chatwire_legacy_writers(role, on, count, per) against
DIRECT_URL when it is set, else DATABASE_URL, as the owner of the schema.
Only these variables and SEND_RATE_LIMIT are read.
`

func (c *cli) legacyWriters(ctx context.Context, args []string) error {
	fs := c.flagSet("legacy-writers", legacyWritersHelp)
	role := fs.String("role", "authenticated", "the database role old clients use")
	positional, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 || (positional[0] != "on" && positional[0] != "off") {
		fs.SetOutput(c.stderr)
		fs.Usage()
		return &usageError{"legacy-writers: say on or off"}
	}
	enabled := positional[0] == "on"
	limit, err := config.ParseRateLimit(c.getenv("SEND_RATE_LIMIT"))
	if err != nil {
		return fmt.Errorf("SEND_RATE_LIMIT %w", err)
	}
	databaseURL, variable, err := migrationURL(c.getenv)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return fmt.Errorf("legacy-writers (%s): connect: %w", variable, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	perSeconds := limit.Per.Seconds()
	if !limit.Enabled() {
		perSeconds = 1 // the database takes count 0 as no limit; per must still be positive
	}
	_, err = conn.Exec(ctx, `SELECT chatwire_legacy_writers($1, $2, $3, make_interval(secs => $4))`,
		*role, enabled, float64(limit.Count), perSeconds)
	if err != nil {
		return fmt.Errorf("legacy-writers (%s): %w", variable, err)
	}
	if enabled {
		fmt.Fprintf(c.stdout, "chatwire legacy-writers: %s may insert its own messages (at most %s), read its own chats and mark received messages read\n", *role, limit)
	} else {
		fmt.Fprintf(c.stdout, "chatwire legacy-writers: %s has no access to chatwire's tables\n", *role)
	}
	return nil
}
