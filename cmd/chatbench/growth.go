package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/auth"
	"github.com/chatwire/chatwire/lib/config"
	"github.com/chatwire/chatwire/lib/httpapi"
)

// growthResult is poll and history latency at each size of the log.
type growthResult struct {
	Points []growthPoint `json:"sizes"`
	// Ratios are p99 at the largest size over p99 at the smallest, per
	// query mode; the target for poll is at most 2.
	Ratios []growthRatio `json:"p99_largest_over_smallest"`
}

type growthRatio struct {
	Mode    string  `json:"mode"`
	Poll    float64 `json:"poll"`
	History float64 `json:"history"`
	// Inbox is the conversation list of the user with the most
	// conversations: p99 at the largest size over the smallest.
	Inbox float64 `json:"conversations"`
}

type growthPoint struct {
	Messages    int          `json:"messages"`
	Events      int          `json:"events"`
	SeedSeconds float64      `json:"seed_seconds"`
	DatabaseMB  float64      `json:"database_mb"`
	Modes       []growthMode `json:"modes"`
	// PlanProblems lists what the plans do that does not scale: empty when
	// poll range-scans events_log and history pages are ordered index scans.
	PlanProblems []string          `json:"plan_problems"`
	Plans        map[string]string `json:"plans"`
}

// growthMode is the latency through one pgx query exec mode: the default
// (prepared statements, generic plans after five runs on a connection) or
// exec, as behind PgBouncer or Supavisor (every query planned for its
// parameters, as on a fresh connection).
type growthMode struct {
	Mode       string  `json:"mode"`
	PollP50    float64 `json:"poll_p50_ms"`
	PollP95    float64 `json:"poll_p95_ms"`
	PollP99    float64 `json:"poll_p99_ms"`
	HistoryP50 float64 `json:"history_p50_ms"`
	HistoryP95 float64 `json:"history_p95_ms"`
	HistoryP99 float64 `json:"history_p99_ms"`
	// Inbox is GET /api/conversations for users with 10, 1,000 and 10,000
	// conversations.
	Inbox []inboxLatency `json:"conversations"`
}

// inboxLatency is the conversation list's latency for one user.
type inboxLatency struct {
	Conversations int     `json:"conversations"`
	P50           float64 `json:"p50_ms"`
	P95           float64 `json:"p95_ms"`
	P99           float64 `json:"p99_ms"`
}

// inboxSizes are the conversation counts of the users whose lists growth
// measures: each has this many 1:1 chats, one message each.
var inboxSizes = []int{10, 1000, 10000}

func inboxUser(conversations int) string { return fmt.Sprintf("inbox%d", conversations) }

// growthModes are the query exec modes growth measures, by URL parameter.
var growthModes = []string{"cache_statement", "exec"}

// growth seeds a private Postgres (so the long seeding transactions hold
// back nobody else's poll) to each size with one INSERT … SELECT
// generate_series (the triggers write the events), then measures poll after
// each new message and history pages through chatwire's HTTP handlers, and
// captures the plans of the very queries those handlers run (auto_explain).
func (b *bench) growth(ctx context.Context) error {
	db, err := openDatabase(ctx, b.getenv, true, false, b.log)
	if err != nil {
		return err
	}
	defer db.close()
	if b.report.Machine.Postgres == "" {
		b.report.Machine.Postgres = db.version
	}
	apps := map[string]string{}
	for _, mode := range growthModes {
		app, stop, err := startGrowthApp(ctx, withParams(db.url, map[string]string{"default_query_exec_mode": mode}), b.secrets.jwt, nil)
		if err != nil {
			return err
		}
		defer stop()
		apps[mode] = app
	}
	var notices noticeLog
	explainApp, stopExplain, err := startGrowthApp(ctx, db.url, b.secrets.jwt, &notices)
	if err != nil {
		return err
	}
	defer stopExplain()
	g := &growthClient{secret: b.secrets.jwt, client: &http.Client{Timeout: 30 * time.Second}}

	for _, sql := range []string{
		`INSERT INTO rooms (id, name, created_by) VALUES ('r1', 'bench', 'alice')`,
		`INSERT INTO room_members (room_id, user_id) VALUES ('r1', 'alice'), ('r1', 'bob')`,
	} {
		if _, err := db.pool.Exec(ctx, sql); err != nil {
			return err
		}
	}
	if err := seedInboxes(ctx, db.pool); err != nil {
		return err
	}
	res := &growthResult{}
	seeded := 0
	for _, size := range b.opts.growthSizes {
		if size <= seeded {
			continue
		}
		p := growthPoint{Messages: size}
		fmt.Fprintf(b.log, "chatbench: growth: seeding %d messages (to %d)\n", size-seeded, size)
		start := time.Now()
		if err := seed(ctx, db.pool, seeded, size); err != nil {
			return err
		}
		p.SeedSeconds = round1(time.Since(start).Seconds())
		seeded = size
		if err := db.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM events), pg_database_size(current_database()) / 1048576.0`).
			Scan(&p.Events, &p.DatabaseMB); err != nil {
			return err
		}
		p.DatabaseMB = round1(p.DatabaseMB)
		fmt.Fprintf(b.log, "chatbench: growth: %d messages, %d events: measuring\n", size, p.Events)
		for _, mode := range growthModes {
			poll, hist, err := g.measure(ctx, apps[mode], b.opts.growthIters)
			if err != nil {
				return err
			}
			m := growthMode{Mode: mode,
				PollP50: pct(poll, .5), PollP95: pct(poll, .95), PollP99: pct(poll, .99),
				HistoryP50: pct(hist, .5), HistoryP95: pct(hist, .95), HistoryP99: pct(hist, .99)}
			for _, n := range inboxSizes {
				lat, err := g.measureInbox(ctx, apps[mode], inboxUser(n), b.opts.growthIters)
				if err != nil {
					return err
				}
				m.Inbox = append(m.Inbox, inboxLatency{Conversations: n, P50: pct(lat, .5), P95: pct(lat, .95), P99: pct(lat, .99)})
			}
			p.Modes = append(p.Modes, m)
		}
		if p.Plans, err = g.explain(ctx, explainApp, &notices); err != nil {
			return err
		}
		p.PlanProblems = planProblems(p.Plans)
		res.Points = append(res.Points, p)
	}
	if n := len(res.Points); n > 0 {
		for i, mode := range growthModes {
			first, last := res.Points[0].Modes[i], res.Points[n-1].Modes[i]
			k := len(inboxSizes) - 1
			res.Ratios = append(res.Ratios, growthRatio{Mode: mode,
				Poll: round2(last.PollP99 / first.PollP99), History: round2(last.HistoryP99 / first.HistoryP99),
				Inbox: round2(last.Inbox[k].P99 / first.Inbox[k].P99)})
		}
	}
	b.report.Growth = res
	printGrowth(b.out, res)
	return b.plotGrowth(res)
}

// seed stores messages from+1..to in one statement, like the store's
// benchmark: 5% between alice and bob, 10% in room r1 (members alice and
// bob), the rest among 1,000 other pairs, 10 ms apart and older than now.
func seed(ctx context.Context, pool *pgxpool.Pool, from, to int) error {
	_, err := pool.Exec(ctx, `
		INSERT INTO messages (sender_id, receiver_id, room_id, body, created_at)
		SELECT CASE WHEN g % 20 = 0 THEN 'alice' WHEN g % 20 = 10 THEN 'bob'
		            WHEN g % 10 = 1 THEN 'alice' ELSE 'u' || (g % 1000) END,
		       CASE WHEN g % 20 = 0 THEN 'bob' WHEN g % 20 = 10 THEN 'alice'
		            WHEN g % 10 = 1 THEN NULL ELSE 'v' || (g % 1000) END,
		       CASE WHEN g % 10 = 1 THEN 'r1' END,
		       'seeded message ' || g,
		       now() - interval '1 day' - ($2::int - g) * interval '10 ms'
		FROM generate_series($1::int + 1, $2::int) g`, from, to)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	// As autovacuum would have by then: statistics and the visibility map.
	for _, sql := range []string{`VACUUM ANALYZE messages`, `VACUUM ANALYZE events`} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			return fmt.Errorf("seed: %s: %w", sql, err)
		}
	}
	return nil
}

// seedInboxes gives each inbox user its conversations: one message from each
// of n other users (named, as users who signed in are), a day older than the
// seeded messages so the lists do not change as growth seeds.
func seedInboxes(ctx context.Context, pool *pgxpool.Pool) error {
	for _, n := range inboxSizes {
		for _, sql := range []string{
			`INSERT INTO users (id, name) SELECT $1 || '-' || g, 'Contact ' || g FROM generate_series(1, $2::int) g`,
			`INSERT INTO messages (sender_id, receiver_id, body, created_at)
			 SELECT $1 || '-' || g, $1, 'hello ' || g, now() - interval '2 days' - g * interval '1 second'
			 FROM generate_series(1, $2::int) g`,
		} {
			if _, err := pool.Exec(ctx, sql, inboxUser(n), n); err != nil {
				return fmt.Errorf("seed inboxes: %w", err)
			}
		}
	}
	// As autovacuum would have by then (seed does the same for messages).
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE conversations`); err != nil {
		return fmt.Errorf("seed inboxes: %w", err)
	}
	return nil
}

// startGrowthApp serves chatwire's routes in this process with realtime
// off (poll and history do not publish) and no send limit (the live
// messages come from one user). With notices set, every query's plan is
// logged by auto_explain (with actual times) and collected there.
func startGrowthApp(ctx context.Context, dbURL, jwtSecret string, notices *noticeLog) (string, func(), error) {
	env := map[string]string{"DATABASE_URL": dbURL, "AUTH_JWT_SECRET": jwtSecret, "REALTIME_DISABLED": "true", "SEND_RATE_LIMIT": "off"}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		return "", nil, err
	}
	pcfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return "", nil, err
	}
	pcfg.MaxConns = 4
	if notices != nil {
		pcfg.ConnConfig.RuntimeParams["session_preload_libraries"] = "auto_explain"
		pcfg.ConnConfig.RuntimeParams["auto_explain.log_min_duration"] = "0"
		pcfg.ConnConfig.RuntimeParams["auto_explain.log_analyze"] = "on"
		pcfg.ConnConfig.RuntimeParams["auto_explain.log_buffers"] = "on"
		pcfg.ConnConfig.RuntimeParams["auto_explain.log_level"] = "notice"
		pcfg.ConnConfig.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { notices.add(n.Message) }
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return "", nil, err
	}
	deps, err := httpapi.NewDeps(cfg, pool, httpapi.NewLogger(io.Discard), httpapi.Options{})
	if err != nil {
		pool.Close()
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		pool.Close()
		return "", nil, err
	}
	srv := &http.Server{Handler: httpapi.NewHandler(deps), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close(); pool.Close() }, nil
}

// noticeLog collects auto_explain's notices.
type noticeLog struct {
	mu   sync.Mutex
	msgs []string
}

func (n *noticeLog) add(m string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.msgs = append(n.msgs, m)
}

func (n *noticeLog) take() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	m := n.msgs
	n.msgs = nil
	return m
}

type growthClient struct {
	secret string
	client *http.Client
}

func (g *growthClient) get(ctx context.Context, app, user, path string, v any) error {
	return g.do(ctx, http.MethodGet, app, user, path, "", v)
}

func (g *growthClient) do(ctx context.Context, method, app, user, path, body string, v any) error {
	tok, err := auth.SignHS256(g.secret, auth.User{ID: user, Name: user}, time.Hour)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, app+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := g.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: status %d: %.300s", method, path, res.StatusCode, raw)
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(raw, v)
}

type pollAnswer struct {
	Events []json.RawMessage `json:"events"`
	Cursor string            `json:"cursor"`
}

type historyAnswer struct {
	NextBefore *string `json:"next_before"`
}

// measure polls as bob after each new message from alice, as a client whose
// Pusher is down would, and pages backwards through their chat, iters times
// each; it returns the sorted latencies.
func (g *growthClient) measure(ctx context.Context, app string, iters int) (poll, hist []time.Duration, err error) {
	var pa pollAnswer
	if err := g.get(ctx, app, "bob", "/api/messages/poll", &pa); err != nil {
		return nil, nil, err
	}
	cursor := pa.Cursor
	for i := range iters {
		if err := g.do(ctx, http.MethodPost, app, "alice", "/api/messages/send", fmt.Sprintf(`{"to":"bob","body":"live %d"}`, i), nil); err != nil {
			return nil, nil, err
		}
		start := time.Now()
		if err := g.get(ctx, app, "bob", "/api/messages/poll?cursor="+url.QueryEscape(cursor), &pa); err != nil {
			return nil, nil, err
		}
		poll = append(poll, time.Since(start))
		cursor = pa.Cursor
	}
	before := ""
	for range iters {
		path := "/api/messages/history?with=alice&limit=50"
		if before != "" {
			path += "&before=" + before
		}
		var ha historyAnswer
		start := time.Now()
		if err := g.get(ctx, app, "bob", path, &ha); err != nil {
			return nil, nil, err
		}
		hist = append(hist, time.Since(start))
		before = ""
		if ha.NextBefore != nil {
			before = *ha.NextBefore
		}
	}
	slices.Sort(poll)
	slices.Sort(hist)
	return poll, hist, nil
}

type conversationsAnswer struct {
	Conversations []json.RawMessage `json:"conversations"`
	NextBefore    *string           `json:"next_before"`
}

// measureInbox reads the user's conversation list iters times, a page of 30
// at a time from the top to the end and again, as a client scrolling its
// inbox does; it returns the sorted latencies.
func (g *growthClient) measureInbox(ctx context.Context, app, user string, iters int) ([]time.Duration, error) {
	var lat []time.Duration
	before := ""
	for range iters {
		path := "/api/conversations?limit=30"
		if before != "" {
			path += "&before=" + url.QueryEscape(before)
		}
		var ca conversationsAnswer
		start := time.Now()
		if err := g.get(ctx, app, user, path, &ca); err != nil {
			return nil, err
		}
		lat = append(lat, time.Since(start))
		before = ""
		if ca.NextBefore != nil {
			before = *ca.NextBefore
		}
	}
	slices.Sort(lat)
	return lat, nil
}

// explain runs one poll and two history pages through the handlers whose
// pool has auto_explain on, and returns the plans by request.
func (g *growthClient) explain(ctx context.Context, app string, notices *noticeLog) (map[string]string, error) {
	plans := map[string]string{}
	notices.take()
	var pa pollAnswer
	if err := g.get(ctx, app, "bob", "/api/messages/poll", &pa); err != nil {
		return nil, err
	}
	// A message to hand out, so the poll plan reads a row.
	if err := g.do(ctx, http.MethodPost, app, "alice", "/api/messages/send", `{"to":"bob","body":"explain"}`, nil); err != nil {
		return nil, err
	}
	notices.take()
	if err := g.get(ctx, app, "bob", "/api/messages/poll?cursor="+url.QueryEscape(pa.Cursor), &pa); err != nil {
		return nil, err
	}
	plans["poll"] = strings.Join(notices.take(), "\n\n")
	var ha historyAnswer
	if err := g.get(ctx, app, "bob", "/api/messages/history?with=alice&limit=50", &ha); err != nil {
		return nil, err
	}
	plans["history first page"] = strings.Join(notices.take(), "\n\n")
	if ha.NextBefore != nil {
		if err := g.get(ctx, app, "bob", "/api/messages/history?with=alice&limit=50&before="+*ha.NextBefore, &ha); err != nil {
			return nil, err
		}
		plans["history next page"] = strings.Join(notices.take(), "\n\n")
	}
	var ca conversationsAnswer
	user := inboxUser(inboxSizes[len(inboxSizes)-1])
	if err := g.get(ctx, app, user, "/api/conversations?limit=30", &ca); err != nil {
		return nil, err
	}
	plans["conversations first page"] = strings.Join(notices.take(), "\n\n")
	if ca.NextBefore != nil {
		if err := g.get(ctx, app, user, "/api/conversations?limit=30&before="+url.QueryEscape(*ca.NextBefore), &ca); err != nil {
			return nil, err
		}
		plans["conversations next page"] = strings.Join(notices.take(), "\n\n")
	}
	return plans, nil
}

// planProblems checks the plans: poll must range-scan events_log, and a
// history page must walk messages_chat_history in order and stop after the
// page, not fetch the whole chat and sort it (a Bitmap Heap Scan under a
// Sort reads every message of the chat).
func planProblems(plans map[string]string) []string {
	var problems []string
	for _, name := range []string{"poll", "history first page", "history next page", "conversations first page", "conversations next page"} {
		p, ok := plans[name]
		isList := strings.HasPrefix(name, "conversations")
		switch {
		case !ok || p == "":
			problems = append(problems, name+": no plan captured")
		case strings.Contains(p, "Seq Scan on messages") || strings.Contains(p, "Seq Scan on events"):
			problems = append(problems, name+": sequential scan")
		case name == "poll" && !strings.Contains(p, "Index Scan using events_log"):
			problems = append(problems, name+": no range scan of events_log")
		case isList && !strings.Contains(p, "Index Scan using conversations_recent"):
			problems = append(problems, name+": no range scan of conversations_recent")
		case isList && (strings.Contains(p, "Seq Scan on conversations") || strings.Contains(p, "Sort") || strings.Contains(p, "Hash")):
			problems = append(problems, name+": a scan or sort that grows with the user's conversations")
		case name != "poll" && strings.Contains(p, "Bitmap Heap Scan on messages"):
			problems = append(problems, name+": reads the whole chat (bitmap scan + sort), not an ordered index scan")
		}
	}
	return problems
}

func printGrowth(w io.Writer, r *growthResult) {
	fmt.Fprintf(w, "\n== growth (poll after each new message, history pages of 50; private Postgres)\n")
	fmt.Fprintf(w, "%10s %10s %8s %16s %9s %9s %9s %9s %9s %9s\n", "messages", "events", "seed s", "exec mode",
		"poll p50", "poll p95", "poll p99", "hist p50", "hist p95", "hist p99")
	for _, p := range r.Points {
		for _, m := range p.Modes {
			fmt.Fprintf(w, "%10d %10d %8.1f %16s %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f\n", p.Messages, p.Events, p.SeedSeconds, m.Mode,
				m.PollP50, m.PollP95, m.PollP99, m.HistoryP50, m.HistoryP95, m.HistoryP99)
		}
	}
	for _, p := range r.Points {
		plans := "plans as expected (poll: events_log range scan; history: ordered messages_chat_history scan; conversations: conversations_recent range scan)"
		if len(p.PlanProblems) > 0 {
			plans = "PLAN PROBLEMS: " + strings.Join(p.PlanProblems, "; ")
		}
		fmt.Fprintf(w, "at %d messages: %s\n", p.Messages, plans)
	}
	fmt.Fprintf(w, "\n== growth: GET /api/conversations, pages of 30 scrolled to the end and again\n")
	fmt.Fprintf(w, "%10s %16s %14s %9s %9s %9s\n", "messages", "exec mode", "conversations", "p50", "p95", "p99")
	for _, p := range r.Points {
		for _, m := range p.Modes {
			for _, in := range m.Inbox {
				fmt.Fprintf(w, "%10d %16s %14d %9.2f %9.2f %9.2f\n", p.Messages, m.Mode, in.Conversations, in.P50, in.P95, in.P99)
			}
		}
	}
	for _, rt := range r.Ratios {
		fmt.Fprintf(w, "p99 largest/smallest (%s): poll %.2f (target <= 2), history %.2f, conversations (10,000 per user) %.2f\n",
			rt.Mode, rt.Poll, rt.History, rt.Inbox)
	}
	if n := len(r.Points); n > 0 {
		last := r.Points[n-1]
		for _, name := range []string{"poll", "history first page", "history next page", "conversations first page", "conversations next page"} {
			if plan, ok := last.Plans[name]; ok {
				fmt.Fprintf(w, "\n-- plan of %s at %d messages (auto_explain on a fresh connection, actual times):\n%s\n", name, last.Messages, plan)
			}
		}
	}
}

func (b *bench) plotGrowth(r *growthResult) error {
	c := barChart{title: "growth: poll and history p99 by stored messages", yLabel: "p99, ms"}
	var names []string
	for _, mode := range growthModes {
		names = append(names, "poll ("+mode+")", "history ("+mode+")")
	}
	vals := make([][]float64, len(names))
	for _, p := range r.Points {
		c.categories = append(c.categories, fmt.Sprintf("%d messages", p.Messages))
		for i, m := range p.Modes {
			vals[2*i] = append(vals[2*i], m.PollP99)
			vals[2*i+1] = append(vals[2*i+1], m.HistoryP99)
		}
	}
	for i, n := range names {
		c.series = append(c.series, series{name: n, ys: vals[i]})
	}
	return b.writePlot("growth.svg", c.svg())
}
