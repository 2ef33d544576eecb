package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// perMessage is what one message cost, over a measured phase: divided by the
// messages answered with success.
type perMessage struct {
	// Statements counts the statements the server sent (pg_stat_statements,
	// top level: a trigger's own statements are not counted; the harness's
	// own pg_stat_* and WAL queries are left out); -pg-statements only.
	Statements float64 `json:"statements,omitempty"`
	// RoundTrips counts the server's trips to Postgres: queries, batches and
	// prepares its pgx pool sent (chatwire's child only).
	RoundTrips float64 `json:"round_trips,omitempty"`
	// Commits counts transactions that wrote (each took a transaction id and
	// flushed WAL at commit), from the cluster's next transaction id: the
	// private Postgres only serves this run.
	Commits float64 `json:"write_commits"`
	// WALBytes is the WAL the cluster wrote.
	WALBytes float64 `json:"wal_bytes"`
	// PostgresCPUMs and ServerCPUMs are CPU time in milliseconds.
	PostgresCPUMs float64 `json:"postgres_cpu_ms"`
	ServerCPUMs   float64 `json:"server_cpu_ms"`
}

// costProbe holds the counters at the start of a measured phase.
type costProbe struct {
	sys        system
	db         *database
	ok         bool
	xid, wal   string
	roundTrips int64
}

const costCountersSQL = `SELECT pg_snapshot_xmax(pg_current_snapshot())::text, pg_current_wal_lsn()::text`

func startCost(ctx context.Context, sys system, db *database) *costProbe {
	c := &costProbe{sys: sys, db: db}
	if db == nil {
		return c
	}
	if err := db.pool.QueryRow(ctx, costCountersSQL).Scan(&c.xid, &c.wal); err != nil {
		return c
	}
	c.roundTrips = roundTripsOf(ctx, sys)
	c.ok = true
	return c
}

// stop computes the cost per message of r. The harness's own queries (the
// samplers, these probes) are a few per second and counted in: at 100 msg/s
// they add about 0.05 commits and statements per message.
func (c *costProbe) stop(ctx context.Context, r *result) (*perMessage, error) {
	if !c.ok || r.Sent == 0 {
		return nil, nil
	}
	var commits, wal float64
	err := c.db.pool.QueryRow(ctx, `SELECT (pg_snapshot_xmax(pg_current_snapshot())::text::bigint - $1::bigint)::float8,
pg_wal_lsn_diff(pg_current_wal_lsn(), $2::pg_lsn)::float8`, c.xid, c.wal).Scan(&commits, &wal)
	if err != nil {
		return nil, fmt.Errorf("cost: %w", err)
	}
	n := float64(r.Sent)
	pm := &perMessage{
		Commits:       round2(commits / n),
		WALBytes:      round1(wal / n),
		PostgresCPUMs: round3(r.PostgresCPU / 100 * r.SampledS * 1000 / n),
		ServerCPUMs:   round3(r.ServerCPUPct / 100 * r.SampledS * 1000 / n),
	}
	if trips := roundTripsOf(ctx, c.sys); trips > 0 {
		pm.RoundTrips = round2(float64(trips-c.roundTrips) / n)
	}
	if c.db.statements {
		var calls float64
		err := c.db.pool.QueryRow(ctx, `SELECT coalesce(sum(s.calls), 0)::float8
FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
WHERE d.datname = $1 AND s.query NOT LIKE '%pg_stat%' AND s.query NOT LIKE '%pg_current_wal_lsn%'`, c.db.name).Scan(&calls)
		if err != nil {
			return nil, fmt.Errorf("cost: statements: %w", err)
		}
		pm.Statements = round2(calls / n)
	}
	return pm, nil
}

// roundTripsOf asks a system that counts its Postgres round trips (chatwire's
// child) for the count so far; 0 when it does not count.
func roundTripsOf(ctx context.Context, sys system) int64 {
	rt, ok := sys.(interface {
		roundTrips(ctx context.Context) int64
	})
	if !ok {
		return 0
	}
	return rt.roundTrips(ctx)
}

// pgCounterPath serves the child's round-trip count.
const pgCounterPath = "/__chatbench/pg-round-trips"

// roundTripCounter is a pgx tracer counting the trips to Postgres: every
// query or Exec (BEGIN and COMMIT included), every batch, every prepare.
type roundTripCounter struct{ n atomic.Int64 }

func (c *roundTripCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *roundTripCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *roundTripCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *roundTripCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *roundTripCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}
func (c *roundTripCounter) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *roundTripCounter) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

func (c *roundTripCounter) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	_ = json.NewEncoder(w).Encode(map[string]int64{"round_trips": c.n.Load()})
}

// roundTrips reads the child's counter; 0 for an external chatwire.
func (c *chatwireSystem) roundTrips(ctx context.Context) int64 {
	if c.pid == 0 || c.label != "" {
		return 0
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.app+pgCounterPath, nil)
	if err != nil {
		return 0
	}
	res, err := c.client.Do(req)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 1<<10))
	var v struct {
		RoundTrips int64 `json:"round_trips"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return 0
	}
	return v.RoundTrips
}
