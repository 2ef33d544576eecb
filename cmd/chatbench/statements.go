package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
)

// statement is one normalized statement's cost during a measured phase, from
// pg_stat_statements.
type statement struct {
	App       string  `json:"application_name,omitempty"`
	Query     string  `json:"query"`
	Calls     int64   `json:"calls"`
	TotalMs   float64 `json:"total_ms"`
	MeanMs    float64 `json:"mean_ms"`
	PerMsgMs  float64 `json:"ms_per_message"`
	CallsPerM float64 `json:"calls_per_message"`
}

// resetStatements starts a measured phase's statement counts afresh.
func (db *database) resetStatements(ctx context.Context) error {
	if db == nil || !db.statements {
		return nil
	}
	_, err := db.pool.Exec(ctx, "SELECT pg_stat_statements_reset()")
	return err
}

// topStatements are the statements of the database by total time, with
// their cost per message sent; the harness's own sampling is left out.
func (db *database) topStatements(ctx context.Context, messages int) ([]statement, error) {
	if db == nil || !db.statements || messages == 0 {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, `
		SELECT regexp_replace(s.query, '\s+', ' ', 'g'), s.calls, s.total_exec_time
		FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
		WHERE d.datname = $1 AND s.query NOT LIKE '%pg_stat%'
		ORDER BY s.total_exec_time DESC LIMIT 10`, db.name)
	if err != nil {
		return nil, fmt.Errorf("pg_stat_statements: %w", err)
	}
	defer rows.Close()
	var out []statement
	for rows.Next() {
		var st statement
		if err := rows.Scan(&st.Query, &st.Calls, &st.TotalMs); err != nil {
			return nil, err
		}
		st.MeanMs = round3(st.TotalMs / float64(max(st.Calls, 1)))
		st.PerMsgMs = round3(st.TotalMs / float64(messages))
		st.CallsPerM = round2(float64(st.Calls) / float64(messages))
		st.TotalMs = round1(st.TotalMs)
		out = append(out, st)
	}
	return out, rows.Err()
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

func printStatements(w io.Writer, r *result) {
	if len(r.Statements) == 0 {
		return
	}
	var total float64
	for _, st := range r.Statements {
		total += st.PerMsgMs
	}
	fmt.Fprintf(w, "%s: Postgres statements (pg_stat_statements, top 10 by time; %.3f ms of execution per message)\n", r.System, total)
	fmt.Fprintf(w, "  %9s %9s %9s  %s\n", "calls/msg", "mean ms", "ms/msg", "statement")
	for _, st := range r.Statements {
		q := st.Query
		if len(q) > 110 {
			q = q[:110] + "…"
		}
		fmt.Fprintf(w, "  %9.2f %9.3f %9.3f  %s\n", st.CallsPerM, st.MeanMs, st.PerMsgMs, strings.TrimSpace(q))
	}
}
