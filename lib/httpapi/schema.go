package httpapi

import (
	"context"
	"fmt"

	"github.com/chatwire/chatwire/schema"
)

// migrateHint tells the operator what to do about a database without this
// build's schema; health, every route and `serve`'s start-up log say it.
const migrateHint = "run `chatwire migrate` against this database (DIRECT_URL, else DATABASE_URL), then retry"

// codeSchemaNotMigrated is the error code of a request that met a database
// without the tables, columns or functions it needs.
const codeSchemaNotMigrated = "schema_not_migrated"

// The states of the database's schema that GET /api/health reports.
const (
	SchemaOK      = "ok"      // every migration this build expects has run
	SchemaMissing = "missing" // none has run
	SchemaBehind  = "behind"  // some have, not the newest
	SchemaUnknown = "unknown" // the database did not answer
)

// SchemaCheck compares the migrations the database ran with the ones this
// build expects (schema.Version).
type SchemaCheck struct {
	State    string
	Applied  int32 // the number of the last migration the database ran
	Expected int32
}

// OK reports whether the database has this build's schema (or a newer one,
// which a newer build already migrated to).
func (c SchemaCheck) OK() bool { return c.State == SchemaOK }

// Problem says what is wrong and what to do, for a log or an answer; "" when
// the schema is ok.
func (c SchemaCheck) Problem() string {
	switch c.State {
	case SchemaMissing:
		return "the database has no chatwire schema: " + migrateHint
	case SchemaBehind:
		return fmt.Sprintf("the database schema is at migration %d, this build needs %d: %s", c.Applied, c.Expected, migrateHint)
	}
	return ""
}

// CheckSchema asks the database which migration it ran last: one query on a
// one-row table.
func (d *Deps) CheckSchema(ctx context.Context) (SchemaCheck, error) {
	check := SchemaCheck{State: SchemaUnknown, Expected: schema.Version}
	applied, err := d.Chat.Health(ctx)
	if err != nil {
		return check, err
	}
	check.Applied = applied
	switch {
	case applied <= 0:
		check.State = SchemaMissing
	case applied < schema.Version:
		check.State = SchemaBehind
	default:
		check.State = SchemaOK
	}
	return check, nil
}
