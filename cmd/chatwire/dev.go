package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/chatwire/chatwire/lib/config"
	"github.com/chatwire/chatwire/lib/httpapi"
	"github.com/chatwire/chatwire/lib/localpg"
	"github.com/chatwire/chatwire/lib/metrics"
	"github.com/chatwire/chatwire/lib/relay"
	"github.com/chatwire/chatwire/lib/store"
)

const devHelp = `
Runs everything on one machine, with no account anywhere:

  - when DATABASE_URL is unset, a private Postgres under .chatwire/postgres,
    started with initdb/pg_ctl from a local PostgreSQL install;
  - the schema, applied;
  - development secrets (AUTH_JWT_SECRET, PUSHER_APP_ID, PUSHER_KEY,
    PUSHER_SECRET, DB_WEBHOOK_SECRET, CRON_SECRET), generated once and kept in
    .chatwire/secrets.env so tokens stay valid across restarts;
  - the built-in Pusher-protocol server on --pusher-addr, its webhooks sent
    to the API;
  - when STORAGE_ENDPOINT is unset, an S3-compatible store for file messages:
    versitygw under .chatwire/storage on a free loopback port (install it once
    with: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0);
  - every route of the API on --addr (default 127.0.0.1:4000, so a Next.js
    app keeps its own :3000), and a demo chat at / built on @chatwire/client:
    pick a user in two windows and chat;
  - CORS for http://localhost:3000 and http://127.0.0.1:3000 (a Next.js app
    on its default port) unless CORS_ALLOWED_ORIGINS is set.
  - the relay (see 'chatwire relay -h'), so rows written by hand with psql
    reach the browsers too; GET /metrics and GET /healthz on --addr.

Every variable set in the environment wins over a generated value. It prints
the addresses, the CHATWIRE_* variables of a Next.js app, tokens for every
demo user and a curl line to send a message, then logs JSON lines to stderr. Ctrl-C stops the API, the Pusher
server and Postgres, in that order. .chatwire/ is relative to the working
directory. Port 0 picks a free port; the first line of output says which:
  chatwire dev: listening app=http://127.0.0.1:PORT pusher=127.0.0.1:PORT
`

// devDir holds dev's state, relative to the working directory: git ignores
// /.chatwire/ at the root of the repository.
const devDir = ".chatwire"

// devDefaultAddr is not Next.js's :3000, so that dev and a Next app run side
// by side with both defaults.
const devDefaultAddr = "127.0.0.1:4000"

// devCORSOrigins are the origins of a Next.js app on its default port, which
// dev lets call the API unless CORS_ALLOWED_ORIGINS says otherwise.
const devCORSOrigins = "http://localhost:3000,http://127.0.0.1:3000"

func (c *cli) dev(ctx context.Context, args []string) (err error) {
	fs := c.flagSet("dev", devHelp)
	addr := fs.String("addr", devDefaultAddr, "listen address of the API (127.0.0.1: this machine only; :4000 for every interface)")
	pusherAddr := fs.String("pusher-addr", "127.0.0.1:6001", "listen address of the built-in Pusher-protocol server")
	if err := c.parseNoArgs(fs, args); err != nil {
		return err
	}
	log := httpapi.NewLogger(c.stderr)

	secretsFile := filepath.Join(devDir, "secrets.env")
	secrets, err := loadDevSecrets(secretsFile)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	if strings.TrimSpace(c.getenv("AUTH_JWKS_URL")) != "" {
		// The environment chose JWKS; a generated secret would conflict.
		delete(secrets, "AUTH_JWT_SECRET")
	}
	env := devEnv{getenv: c.getenv, fallback: secrets, forced: map[string]string{
		"PUSHER_USE_TLS": "false", // the local Pusher server speaks plain HTTP, on loopback only
		// Placeholders until the real addresses are known, so that the
		// variables the user set are checked before Postgres takes seconds
		// to start.
		"PUSHER_HOST": "127.0.0.1:6001",
	}}
	env.fallback["CORS_ALLOWED_ORIGINS"] = devCORSOrigins
	privatePostgres := strings.TrimSpace(c.getenv("DATABASE_URL")) == ""
	if privatePostgres {
		env.fallback["DATABASE_URL"] = "postgres://127.0.0.1/placeholder"
		// Migrations must go to the private server too, not elsewhere.
		env.forced["DIRECT_URL"] = ""
	}
	if _, err := config.Load(env.get); err != nil {
		return err
	}

	// Bound first: a port in use fails at once, and the Pusher server's
	// webhooks need the API's address.
	appLn, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	defer appLn.Close() // serveHTTP closes it too; this covers early returns

	addrs := listening{App: baseURL(appLn.Addr())}
	database := "DATABASE_URL from the environment"
	if privatePostgres {
		pg, err := localpg.Start(ctx, localpg.Options{Dir: filepath.Join(devDir, "postgres"), Logger: log})
		if err != nil {
			return fmt.Errorf("dev: private Postgres (or set DATABASE_URL): %w", err)
		}
		defer func() {
			if stopErr := pg.Stop(); stopErr != nil {
				err = errors.Join(err, fmt.Errorf("dev: %w", stopErr))
			}
		}()
		env.fallback["DATABASE_URL"] = pg.URL()
		addrs.Postgres = fmt.Sprintf("127.0.0.1:%d", pg.Port())
		// The URL has no password: the private server trusts loopback.
		database = fmt.Sprintf("private server in %s, psql %s", pg.Dir(), pg.URL())
	}

	app, err := pusherAppFromEnv(env.get)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	pusherServer, err := startDevPusher(app, *pusherAddr, addrs.App+"/api/pusher/webhook", log)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	defer func() {
		if closeErr := pusherServer.Close(); closeErr != nil {
			err = errors.Join(err, fmt.Errorf("dev: %w", closeErr))
		}
	}()
	addrs.Pusher = pusherServer.Addr()
	env.forced["PUSHER_HOST"] = addrs.Pusher

	stopStorage, files, err := startDevStorage(ctx, env)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	defer stopStorage()

	cfg, err := config.Load(env.get)
	if err != nil {
		return err
	}
	if err := applySchema(ctx, cfg.MigrationURL()); err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	pool, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	defer pool.Close()
	m := metrics.New()
	m.WatchBacklog(store.New(pool))
	deps, err := httpapi.NewDeps(cfg, pool, log, instrumented(m))
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	// The relay gets a pool of its own: its claims hold a connection while
	// they publish, which the API's requests should not wait for.
	relayPool, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	defer relayPool.Close()
	health := liveness()
	var devRelay *relay.Relay
	if deps.Pusher != nil {
		devRelay = relay.New(store.New(relayPool), deps.Chat.SignFiles(deps.Pusher), log, relay.Options{Observer: m.Relay()})
		health = devRelay.HealthHandler()
	}

	banner := devBanner{
		addrs:       addrs,
		pusher:      app,
		database:    database,
		files:       files,
		secretsFile: secretsFile,
		cors:        env.get("CORS_ALLOWED_ORIGINS"),
	}
	if banner.tokens, err = devTokens(env.get); err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	banner.print(c.stdout)
	fmt.Fprintf(c.stdout, "Demo chat: %s/\n", addrs.App)
	addrs.Metrics = addrs.App
	c.announce(addrs)
	handler := withOperations(withDemo(httpapi.NewHandler(deps), env.get, pusherServer, app.Key, log), operationsMux(m, health))
	g, ctx := errgroup.WithContext(ctx)
	if devRelay != nil {
		g.Go(func() error { return devRelay.Run(ctx) })
	}
	g.Go(func() error { return serveHTTP(ctx, appLn, handler, log) })
	err = g.Wait()
	flushAcks(deps)
	return err
}
