// Package store implements chat.Store on PostgreSQL with pgx.
//
// Every fact a client is told about is written to the events table by the
// schema's triggers, in the same transaction as the change; the methods here
// therefore read back "the events of my own transaction" and hand them to the
// caller for publishing. Each operation is one transaction, and most are one
// round trip (a pgx.Batch or a single statement), because a serverless
// function pays for every round trip on a cold, distant connection.
package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/schema"
)

// Serverless defaults: a function instance serves one request at a time, so two
// connections are plenty, and idle ones are closed soon because a frozen
// instance must not hold server slots for long.
const (
	defaultMaxConns        = 2
	defaultMaxConnIdleTime = time.Minute
	defaultConnectTimeout  = 5 * time.Second
	// DefaultQueryTimeout bounds every query, so a request never hangs on Postgres.
	DefaultQueryTimeout = 5 * time.Second
)

// DB implements chat.Store on a pgxpool.Pool.
type DB struct {
	pool    *pgxpool.Pool
	timeout time.Duration
	// pollScanBudget bounds the log rows one Poll reads.
	pollScanBudget int
}

var _ chat.Store = (*DB)(nil)

// New returns a store on pool; every query runs with DefaultQueryTimeout (or
// the caller's earlier deadline).
func New(pool *pgxpool.Pool) *DB {
	return &DB{pool: pool, timeout: DefaultQueryTimeout, pollScanBudget: defaultPollScanBudget}
}

// Open creates a pool suited to serverless functions. It does not connect:
// pgxpool.NewWithConfig only starts connections for pool_min_conns (0 by
// default), so a cold start that never touches the database pays nothing, and
// an unreachable database surfaces as an error of the first query.
//
// Unless the URL says otherwise, the pool holds at most 2 connections, closes
// connections idle for a minute, and gives up connecting after 5 seconds. pgx
// URL parameters such as default_query_exec_mode (simple_protocol or exec
// behind PgBouncer/Supavisor in transaction mode) and pool_max_conns are
// honoured. Errors never contain the password.
func Open(ctx context.Context, databaseURL string) (*pgxpool.Pool, error) {
	return OpenWith(ctx, databaseURL, nil)
}

// OpenWith is Open with a last change to the pool's configuration (a
// benchmark's tracer, say) before the pool is created; configure may be nil.
func OpenWith(ctx context.Context, databaseURL string, configure func(*pgxpool.Config)) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// Not wrapped: the parse error carries the unredacted URL.
		return nil, fmt.Errorf("store: parse database URL: %s", redact(err.Error(), databaseURL))
	}
	if !setsParam(databaseURL, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	if !setsParam(databaseURL, "pool_max_conn_idle_time") {
		cfg.MaxConnIdleTime = defaultMaxConnIdleTime
	}
	if cfg.ConnConfig.ConnectTimeout == 0 { // neither connect_timeout nor PGCONNECT_TIMEOUT
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	if configure != nil {
		configure(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: create pool: %s", redact(err.Error(), databaseURL))
	}
	return pool, nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	var one int
	if err := db.pool.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// SchemaVersion returns the number of the last migration the database ran,
// 0 when it ran none (the version table does not exist). It is one query on
// a table of one row, cheap enough for every health check.
func (db *DB) SchemaVersion(ctx context.Context) (int32, error) {
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	var version int32
	err := db.pool.QueryRow(ctx, "SELECT version FROM "+schema.VersionTable).Scan(&version)
	switch {
	case isUndefinedTable(err):
		return 0, nil
	case errors.Is(err, pgx.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return version, nil
}

// deadline derives the context of one query or transaction from the caller's.
func (db *DB) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, db.timeout)
}

// setsParam reports whether a connection string (URL or keyword/value form)
// sets the parameter key.
func setsParam(conn, key string) bool {
	if strings.HasPrefix(conn, "postgres://") || strings.HasPrefix(conn, "postgresql://") {
		u, err := url.Parse(conn)
		return err == nil && u.Query().Has(key)
	}
	return regexp.MustCompile(`(^|\s)` + regexp.QuoteMeta(key) + `\s*=`).MatchString(conn)
}

var passwordParam = regexp.MustCompile(`(?i)password\s*=\s*('[^']*'|[^\s&]*)`)

// redact removes every password the connection string contains from msg,
// verbatim or percent-decoded, whatever the error that quoted it.
func redact(msg, conn string) string {
	var secrets []string
	if rest, ok := cutScheme(conn); ok {
		// The userinfo ends at the last '@' of the authority; a malformed URL
		// may hide a '/' or '?' in the password, so try the last '@' overall too.
		authority := rest
		if i := strings.IndexAny(authority, "/?"); i >= 0 {
			authority = authority[:i]
		}
		for _, s := range []string{authority, rest} {
			if at := strings.LastIndex(s, "@"); at >= 0 {
				if _, pw, ok := strings.Cut(s[:at], ":"); ok {
					secrets = append(secrets, pw)
				}
			}
		}
	}
	for _, m := range passwordParam.FindAllStringSubmatch(conn, -1) {
		secrets = append(secrets, strings.Trim(m[1], "'"))
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		msg = strings.ReplaceAll(msg, s, "xxxxx")
		if d, err := url.PathUnescape(s); err == nil && d != "" {
			msg = strings.ReplaceAll(msg, d, "xxxxx")
		}
		if d, err := url.QueryUnescape(s); err == nil && d != "" {
			msg = strings.ReplaceAll(msg, d, "xxxxx")
		}
	}
	return msg
}

func cutScheme(conn string) (string, bool) {
	for _, p := range []string{"postgres://", "postgresql://"} {
		if rest, ok := strings.CutPrefix(conn, p); ok {
			return rest, true
		}
	}
	return "", false
}
