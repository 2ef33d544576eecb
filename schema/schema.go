// Package schema holds chatwire's SQL migrations, applied in file-name order.
//
// Only the migration runner (cmd and tests) reads FS; functions never need it.
package schema

import "embed"

// FS contains the migrations: files named NNN_topic.sql, applied in order.
//
//go:embed *.sql
var FS embed.FS
