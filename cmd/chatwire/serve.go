package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/config"
	"github.com/chatwire/chatwire/lib/httpapi"
	"github.com/chatwire/chatwire/lib/metrics"
	"github.com/chatwire/chatwire/lib/store"
)

const serveHelp = `
Serves every route of the API on one port, configured by the environment alone
(DATABASE_URL, PUSHER_*, AUTH_*, ...; see "Configuration" in API.md): the
deployment for a VPS, Railway or Fly.io. A missing or malformed variable stops
it at start with an error naming the variable.

Without --addr it listens on :$PORT when PORT is set (Railway and Fly.io set
it), else on :3000. It logs JSON lines to stdout and stops gracefully on
SIGINT or SIGTERM. Run 'chatwire migrate' first to create the schema.
`

// defaultServeAddr is the listen address when neither --addr nor PORT is set.
const defaultServeAddr = ":3000"

func (c *cli) serve(ctx context.Context, args []string) error {
	fs := c.flagSet("serve", serveHelp)
	addrFlag := fs.String("addr", "", `listen address (default ":$PORT" when PORT is set, else ":3000")`)
	metricsAddr := fs.String("metrics-addr", "", "listen address of GET /metrics and GET /healthz (default: the API's port)")
	if err := c.parseNoArgs(fs, args); err != nil {
		return err
	}
	addr, err := serveAddr(*addrFlag, c.getenv)
	if err != nil {
		return err
	}
	cfg, err := config.Load(c.getenv)
	if err != nil {
		return err
	}

	log := httpapi.NewLogger(c.stdout)
	pool, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer pool.Close()
	m := metrics.New()
	m.WatchBacklog(store.New(pool))
	deps, err := httpapi.NewDeps(cfg, pool, log, instrumented(m))
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}

	logSchema(ctx, deps, log)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	url := baseURL(ln.Addr())
	warnAudience(log, cfg.Auth)
	ops := operationsMux(m, liveness())
	g, ctx := errgroup.WithContext(ctx)
	addrs := listening{App: url, Metrics: url}
	handler := withOperations(httpapi.NewHandler(deps), ops)
	if *metricsAddr != "" {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("serve: %w", err)
		}
		addrs.Metrics = baseURL(mln.Addr())
		handler = httpapi.NewHandler(deps)
		g.Go(func() error { return serveHTTP(ctx, mln, ops, log) })
	}
	log.Info("chatwire serve: listening", "addr", ln.Addr().String(), "url", url, "metrics", addrs.Metrics, "realtime", realtimeTarget(cfg.Pusher))
	c.announce(addrs)
	g.Go(func() error { return serveHTTP(ctx, ln, handler, log) })
	err = g.Wait()
	flushAcks(deps)
	return err
}

// flushAcks writes the acknowledgements the process still holds once it has
// stopped serving, so that stopping normally republishes nothing (a handler
// still running past the shutdown timeout may leave some to the redelivery).
func flushAcks(deps *httpapi.Deps) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	deps.Chat.FlushAcks(ctx)
}

// instrumented are the NewDeps options that feed m: every request's duration
// and the API's publishes.
func instrumented(m *metrics.Metrics) httpapi.Options {
	return httpapi.Options{
		Chat:          chat.Options{AckDelay: chat.LongLivedAckDelay},
		Requests:      m,
		WrapPublisher: func(p chat.Publisher) chat.Publisher { return m.Publisher(metrics.SourceAPI, p) },
	}
}

// withOperations serves GET /metrics and GET /healthz from ops and the rest
// from api.
func withOperations(api http.Handler, ops *http.ServeMux) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", ops)
	mux.Handle("/healthz", ops)
	mux.Handle("/", api)
	return mux
}

// liveness answers GET /healthz of serve: the process serves HTTP. Whether
// the database and Pusher answer is /api/health's question.
func liveness() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(`{"ok":true}` + "\n"))
	})
}

// serveAddr is --addr when given, else :$PORT, else :3000.
func serveAddr(flagAddr string, getenv func(string) string) (string, error) {
	if flagAddr != "" {
		return flagAddr, nil
	}
	return portAddr(getenv, defaultServeAddr)
}

// portAddr is :$PORT when PORT is set, else fallback.
func portAddr(getenv func(string) string, fallback string) (string, error) {
	port := strings.TrimSpace(getenv("PORT"))
	if port == "" {
		return fallback, nil
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n > 65535 {
		return "", fmt.Errorf("PORT must be a TCP port number (0-65535)")
	}
	return ":" + port, nil
}

// realtimeTarget says where events go, for the start-up log: the cluster or
// host, which are not secret, never the credentials.
func realtimeTarget(p config.Pusher) string {
	switch {
	case p.Disabled:
		return "disabled"
	case p.Host != "":
		return "pusher host " + p.Host
	default:
		return "pusher cluster " + p.Cluster
	}
}

// logSchema says at start when the database lacks this build's schema, with
// what to do. serve starts anyway: health answers 503 until someone migrates,
// and the database may be migrated while serve runs.
func logSchema(ctx context.Context, deps *httpapi.Deps, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	check, err := deps.CheckSchema(ctx)
	switch {
	case err != nil:
		log.Warn("chatwire serve: database did not answer at start; /api/health reports it", "err", err)
	case !check.OK():
		log.Error("chatwire serve: "+check.Problem(), "schema", check.State, "applied", check.Applied, "expected", check.Expected)
	}
}

// warnAudience warns when tokens signed with a shared secret are accepted
// whatever their audience: any token the secret ever signed (a Supabase
// project's service or anon tokens, another app's) then signs a user in.
func warnAudience(log *slog.Logger, a config.Auth) {
	if a.JWTSecret != "" && a.Audience == "" {
		log.Warn("chatwire serve: AUTH_AUDIENCE is not set, so any token signed with AUTH_JWT_SECRET that has a sub is accepted; set it to the aud your tokens carry (Supabase: authenticated)")
	}
}
