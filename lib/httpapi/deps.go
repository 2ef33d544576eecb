// Package httpapi is chatwire's HTTP surface: the route table, the handlers,
// JSON in and out, validation errors, and the middleware every route shares.
// The Vercel functions in api/ and `chatwire serve` both serve these routes.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/auth"
	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/config"
	"github.com/chatwire/chatwire/lib/realtime"
	"github.com/chatwire/chatwire/lib/storage"
	"github.com/chatwire/chatwire/lib/store"
)

// Deps are what the handlers need, built once per process.
type Deps struct {
	Config   config.Config
	Log      *slog.Logger
	Chat     *chat.Service
	Verifier *auth.Verifier
	// Pusher is nil when realtime is disabled.
	Pusher *realtime.Pusher
	// Requests hears every request's route, status and duration; nil in
	// Vercel functions.
	Requests RequestObserver
}

// RequestObserver records API requests (lib/metrics implements it).
type RequestObserver interface {
	ObserveRequest(route, method string, status int, took time.Duration)
}

// Options tune NewDeps; zero values take the defaults.
type Options struct {
	// Transport carries Pusher, JWKS and storage calls; nil: http.DefaultTransport
	// for JWKS and storage, and a keep-alive transport of its own for Pusher
	// (realtime.NewTransport).
	Transport http.RoundTripper
	Chat      chat.Options
	// StorageClock signs file URLs; nil: time.Now. Tests move it to expire URLs.
	StorageClock func() time.Time
	// Requests: see Deps.Requests.
	Requests RequestObserver
	// WrapPublisher, when set, wraps the Pusher publisher (to count its
	// publishes); it is not called when realtime is disabled.
	WrapPublisher func(chat.Publisher) chat.Publisher
}

// NewDeps wires the handlers' dependencies over an existing pool.
func NewDeps(cfg config.Config, pool *pgxpool.Pool, log *slog.Logger, opts Options) (*Deps, error) {
	transport := opts.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	verifier, err := auth.NewVerifier(auth.Config{
		JWTSecret:  cfg.Auth.JWTSecret,
		JWKSURL:    cfg.Auth.JWKSURL,
		Issuer:     cfg.Auth.Issuer,
		Audience:   cfg.Auth.Audience,
		HTTPClient: &http.Client{Transport: transport, Timeout: 5 * time.Second},
	})
	if err != nil {
		return nil, fmt.Errorf("httpapi: auth: %w", err)
	}
	d := &Deps{Config: cfg, Log: log, Verifier: verifier, Requests: opts.Requests}
	var publisher chat.Publisher
	if !cfg.Pusher.Disabled {
		d.Pusher = realtime.New(cfg.Pusher, opts.Transport)
		d.Pusher.Log = log
		publisher = d.Pusher
		if opts.WrapPublisher != nil {
			publisher = opts.WrapPublisher(publisher)
		}
	}
	chatOpts := opts.Chat
	if !chatOpts.SendRateLimit.Enabled() {
		chatOpts.SendRateLimit = cfg.SendRateLimit
	}
	if chatOpts.Limits == (chat.Limits{}) {
		chatOpts.Limits = chat.Limits{
			RoomCreate: cfg.RoomCreateLimit, RoomAdd: cfg.RoomAddLimit,
			Typing: cfg.TypingRateLimit, RoomMaxMembers: cfg.RoomMaxMembers,
		}
	}
	if cfg.Storage.Enabled() {
		files, err := storage.FromConfig(cfg.Storage, &http.Client{Transport: transport, Timeout: 5 * time.Second}, opts.StorageClock)
		if err != nil {
			return nil, fmt.Errorf("httpapi: %w", err)
		}
		chatOpts.Files.Storage = files
	}
	chatOpts.Files.MaxBytes, chatOpts.Files.Types = cfg.AttachmentMaxBytes, cfg.AttachmentTypes
	if chatOpts.MaxSendsInFlight == 0 {
		chatOpts.MaxSendsInFlight = maxSendsInFlight(pool)
	}
	d.Chat = chat.NewService(store.New(pool), publisher, log, chatOpts)
	return d, nil
}

// maxSendsInFlight is the default load-shedding bound: 32 sends waiting or
// running per database connection (at least 64). Past it a send answers 503
// with Retry-After at once, so an overload turns into refusals the clients
// retry rather than a queue whose wait grows until every send times out.
// A send is counted from before its transaction to after its publish (and
// the occasional stale step), and holds its connection for about a
// millisecond of that on a nearby database; the bound leaves room for a
// stall of the database (an autovacuum, a checkpoint) or of Pusher without
// refusing anyone, whose retry would come a whole second later
// (Retry-After counts seconds). At 8 per connection chatbench's max-rate
// steps shed sends at 1,000-1,200/s on stalls of under 100 ms.
func maxSendsInFlight(pool *pgxpool.Pool) int {
	return max(64, 32*int(pool.Config().MaxConns))
}

// NewLogger returns the JSON logger chatwire writes to stdout or stderr.
func NewLogger(w interface{ Write([]byte) (int, error) }) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// ProcessDeps builds Deps from the environment: the first call opens a lazy
// pool (no connection until a query needs one), later calls share it.
func processDeps(ctx context.Context, getenv func(string) string, log *slog.Logger) (*Deps, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return nil, err
	}
	pool, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("httpapi: database: %w", err)
	}
	return NewDeps(cfg, pool, log, Options{})
}
