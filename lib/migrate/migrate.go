// Package migrate applies chatwire's schema (package schema) with tern.
//
// Only cmd and tests import it, so the functions under api/ stay small.
package migrate

import (
	"context"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"

	"github.com/chatwire/chatwire/schema"
)

// VersionTable records the number of the last applied migration.
// Schema-qualified, as tern advises, so a search_path cannot hide it.
const VersionTable = schema.VersionTable

// Up applies every migration of schema.FS not yet applied to the database at
// databaseURL; on an up-to-date database it does nothing. Each migration runs
// in its own transaction.
//
// Concurrent calls on one database are safe: tern holds a session-level
// advisory lock while it reads the version and migrates, so a second caller
// waits and then finds nothing to do. Because that lock lives in the session,
// databaseURL must be a direct connection, not a transaction pooler
// (PgBouncer, Supavisor in transaction mode) that may hand each statement to
// another server session: callers pass DIRECT_URL when it is set, and
// DATABASE_URL otherwise.
//
// ctx bounds the whole run, connection included; give it a deadline.
func Up(ctx context.Context, databaseURL string) error {
	return up(ctx, databaseURL, schema.FS, -1)
}

// To applies the migrations up to and including number version, and no
// further. Upgrade tests use it to build a database as an older release left
// it, fill it with data, then call Up.
func To(ctx context.Context, databaseURL string, version int32) error {
	return up(ctx, databaseURL, schema.FS, version)
}

// Latest is the number of the newest migration in schema.FS.
func Latest() (int32, error) {
	entries, err := fs.Glob(schema.FS, "*.sql")
	if err != nil {
		return 0, fmt.Errorf("migrate: list: %w", err)
	}
	return int32(len(entries)), nil
}

// up migrates to version, or to the newest migration when version is -1.
func up(ctx context.Context, databaseURL string, migrations fs.FS, version int32) error {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return fmt.Errorf("migrate: connect: %w", err)
	}
	defer func() {
		// Closing only says goodbye to the server; do not let a cancelled
		// ctx skip it, nor a dead network hold it up.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		conn.Close(ctx)
	}()

	m, err := migrate.NewMigrator(ctx, conn, VersionTable)
	if err != nil {
		return fmt.Errorf("migrate: version table: %w", err)
	}
	if err := m.LoadMigrations(migrations); err != nil {
		return fmt.Errorf("migrate: load: %w", err)
	}
	if version < 0 {
		err = m.Migrate(ctx)
	} else {
		err = m.MigrateTo(ctx, version)
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
