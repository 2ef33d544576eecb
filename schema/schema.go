// Package schema holds chatwire's SQL migrations, applied in file-name order.
//
// Only the migration runner (cmd and tests) reads FS. The functions need only
// Version and VersionTable, to tell a database nobody migrated from one that
// is ready.
package schema

import "embed"

// FS contains the migrations: files named NNN_topic.sql, applied in order.
//
//go:embed *.sql
var FS embed.FS

// Version is the number of the newest migration in FS: the schema this build
// of chatwire expects. Whoever adds a migration bumps it in the same commit;
// TestVersionIsTheNewestMigration fails until they do.
const Version int32 = 11

// VersionTable is where tern records the number of the last applied
// migration. Schema-qualified, as tern advises, so a search_path cannot hide
// it.
const VersionTable = "public.chatwire_schema_version"
