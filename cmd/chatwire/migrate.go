package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/chatwire/chatwire/lib/migrate"
)

const migrateHelp = `
Applies chatwire's schema to DIRECT_URL when it is set, else to DATABASE_URL.
It is idempotent: an up-to-date database is left as it is. Only these two
variables are read.

Migrations hold a session-level lock, which a transaction pooler (PgBouncer,
Supavisor in transaction mode) does not keep: when DATABASE_URL points at one,
set DIRECT_URL to the database itself.
`

// migrateTimeout bounds a whole migration run, connection included.
const migrateTimeout = 5 * time.Minute

func (c *cli) migrate(ctx context.Context, args []string) error {
	fs := c.flagSet("migrate", migrateHelp)
	if err := c.parseNoArgs(fs, args); err != nil {
		return err
	}
	databaseURL, variable, err := migrationURL(c.getenv)
	if err != nil {
		return err
	}
	if err := applySchema(ctx, databaseURL); err != nil {
		return fmt.Errorf("migrate (%s): %w", variable, err)
	}
	fmt.Fprintf(c.stdout, "chatwire migrate: the schema of %s is up to date\n", variable)
	return nil
}

// applySchema runs the migrations with a deadline, as migrate.Up asks.
func applySchema(ctx context.Context, databaseURL string) error {
	ctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	return migrate.Up(ctx, databaseURL)
}

// migrationURL reads only what migrate needs: DIRECT_URL, else DATABASE_URL.
// It also returns the variable's name, for messages, which must never show
// the URL itself (it may hold a password).
func migrationURL(getenv func(string) string) (databaseURL, variable string, err error) {
	for _, name := range []string{"DIRECT_URL", "DATABASE_URL"} {
		value := strings.TrimSpace(getenv(name))
		if value == "" {
			continue
		}
		if u, err := url.Parse(value); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return "", "", fmt.Errorf("%s must be a postgres:// or postgresql:// URL", name)
		}
		return value, name, nil
	}
	return "", "", errors.New("DATABASE_URL is required (or DIRECT_URL, which migrations prefer)")
}
