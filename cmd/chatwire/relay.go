package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/config"
	"github.com/chatwire/chatwire/lib/httpapi"
	"github.com/chatwire/chatwire/lib/metrics"
	"github.com/chatwire/chatwire/lib/realtime"
	"github.com/chatwire/chatwire/lib/relay"
	"github.com/chatwire/chatwire/lib/storage"
	"github.com/chatwire/chatwire/lib/store"
	"github.com/chatwire/chatwire/schema"
)

const relayHelp = `
Publishes every event nobody else published (rows of legacy writers, failed
publishes, functions that died after their commit), within a second of the
commit, and within seconds of Pusher's recovery after an outage. One small
process for a VPS, Railway or Fly.io, configured by the environment alone:
DATABASE_URL and PUSHER_* as for serve (no AUTH_* needed).

It looks at the pending events every --poll, leaves each one --grace to its
sender, then claims batches in Postgres (FOR UPDATE SKIP LOCKED): several
relays can run at once, and each channel's events go out in order. Failures
back off with jitter up to --max-backoff. GET /healthz and GET /metrics
(Prometheus) are served on --metrics-addr. It logs JSON lines to stdout; on
SIGINT or SIGTERM it finishes the batch in flight and stops.
`

// defaultMetricsAddr is the relay's /metrics address when neither
// --metrics-addr nor PORT is set: the port Fly.io's metrics scraping expects.
const defaultMetricsAddr = ":9091"

func (c *cli) relay(ctx context.Context, args []string) error {
	fs := c.flagSet("relay", relayHelp)
	metricsAddr := fs.String("metrics-addr", "", `listen address of /healthz and /metrics (default ":$PORT" when PORT is set, else ":9091"; "off": none)`)
	grace := fs.Duration("grace", 500*time.Millisecond, "how long a sender has to publish its own event before the relay does")
	poll := fs.Duration("poll", 100*time.Millisecond, "longest wait between two looks at the pending events")
	batch := fs.Int("batch", 100, "events per claim")
	maxBackoff := fs.Duration("max-backoff", 2*time.Second, "longest wait after a failure; a recovered Pusher is retried within it")
	if err := c.parseNoArgs(fs, args); err != nil {
		return err
	}
	addr := *metricsAddr
	if addr == "" {
		var err error
		if addr, err = portAddr(c.getenv, defaultMetricsAddr); err != nil {
			return err
		}
	}
	cfg, err := config.LoadRelay(c.getenv)
	if err != nil {
		return err
	}

	log := httpapi.NewLogger(c.stdout)
	pool, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	defer pool.Close()
	db := store.New(pool)
	pusher := realtime.New(cfg.Pusher, nil)
	pusher.Log = log
	publisher, err := relayPublisher(db, pusher, log, cfg.Storage)
	if err != nil {
		return err
	}
	m := metrics.New()
	m.WatchBacklog(db)
	r := relay.New(db, publisher, log, relay.Options{
		Grace:        *grace,
		PollInterval: *poll,
		Batch:        *batch,
		MaxBackoff:   *maxBackoff,
		Observer:     m.Relay(),
	})

	g, ctx := errgroup.WithContext(ctx)
	var addrs listening
	if !strings.EqualFold(addr, "off") {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("relay: %w", err)
		}
		addrs.Metrics = baseURL(ln.Addr())
		g.Go(func() error { return serveHTTP(ctx, ln, operationsMux(m, r.HealthHandler()), log) })
	}
	log.Info("chatwire relay: started", "metrics", addrs.Metrics, "realtime", realtimeTarget(cfg.Pusher))
	logRelaySchema(ctx, db, log)
	c.announce(addrs)
	g.Go(func() error { return r.Run(ctx) })
	return g.Wait()
}

// relayPublisher is pusher, adding a fresh signed URL to each uploaded file
// of the new-message events the relay publishes when storage is configured,
// as serve's own publishing does: without one a client cannot show the file.
func relayPublisher(db *store.DB, pusher chat.Publisher, log *slog.Logger, files config.Storage) (chat.Publisher, error) {
	if !files.Enabled() {
		return pusher, nil
	}
	s3, err := storage.FromConfig(files, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	return chat.NewService(db, nil, log, chat.Options{Files: chat.FileOptions{Storage: s3}}).SignFiles(pusher), nil
}

// logRelaySchema says at start when the database lacks this build's schema.
// The relay starts anyway and retries (with its backoff) until someone
// migrates.
func logRelaySchema(ctx context.Context, db *store.DB, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	applied, err := db.SchemaVersion(ctx)
	switch {
	case err != nil:
		log.Warn("chatwire relay: database did not answer at start; retrying", "err", err)
	case applied < schema.Version:
		log.Error("chatwire relay: the database's schema is behind this build; run chatwire migrate",
			"applied", applied, "expected", schema.Version)
	}
}

// operationsMux serves GET /metrics and GET /healthz.
func operationsMux(m *metrics.Metrics, health http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.Handle("GET /healthz", health)
	return mux
}
