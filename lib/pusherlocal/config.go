package pusherlocal

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Defaults, chosen to match what Pusher itself does.
const (
	DefaultActivityTimeout    = 120 * time.Second
	DefaultPongTimeout        = 30 * time.Second
	DefaultMemberRemovedDelay = 3 * time.Second

	// DefaultMaxConnections is the connection quota: a connection over it
	// is refused with 4004, as Pusher refuses one over the app's plan.
	DefaultMaxConnections = 10000
	// DefaultMaxChannelsPerConnection bounds what one client may hold in
	// server memory. Pusher publishes no fixed figure; a chat app's client
	// holds its user channels plus one per open chat or room, far below it.
	DefaultMaxChannelsPerConnection = 100
	defaultWebhookTimeout           = 5 * time.Second
)

// Config configures a Server. AppID, Key and Secret are required; every other
// field has a default.
type Config struct {
	// AppID, Key and Secret identify the one app this server hosts, as the
	// credentials of a Pusher app do.
	AppID  string
	Key    string
	Secret string

	// WebhookURL receives channel_occupied, channel_vacated, member_added and
	// member_removed webhooks. Empty disables webhooks.
	WebhookURL string

	// ActivityTimeout is how long a connection may stay silent before the
	// server pings it; it is also announced to clients (in whole seconds, at
	// least 1). Default 120 s.
	ActivityTimeout time.Duration

	// PongTimeout is how long a pinged connection has to answer before it is
	// closed with 4201. Default 30 s.
	PongTimeout time.Duration

	// MemberRemovedDelay delays the member_removed webhook (and the
	// channel_vacated that follows it on a presence channel); a rejoin of the
	// same user within the delay cancels both. Default 3 s, like Pusher.
	MemberRemovedDelay time.Duration

	// MaxConnections caps concurrent connections; one more gets a
	// pusher:error and a close with 4004 ("Over connection quota"), Pusher's
	// answer for an app over its plan's quota. Default 10,000.
	MaxConnections int

	// MaxChannelsPerConnection caps the channels one connection may be
	// subscribed to; one more is refused with a pusher:subscription_error of
	// type "LimitReached" and status 4004 on that channel, and the
	// connection stays open. Default 100.
	MaxChannelsPerConnection int

	// Logger receives operational logs; secrets are never logged. Default:
	// discard.
	Logger *slog.Logger

	// HTTPClient sends webhooks. Default: a client with a 5 s timeout.
	HTTPClient *http.Client
}

func (c Config) withDefaults() (Config, error) {
	var missing []error
	if c.AppID == "" {
		missing = append(missing, errors.New("AppID is required"))
	}
	if c.Key == "" {
		missing = append(missing, errors.New("Key is required"))
	}
	if c.Secret == "" {
		missing = append(missing, errors.New("Secret is required"))
	}
	if err := errors.Join(missing...); err != nil {
		return Config{}, fmt.Errorf("pusherlocal config: %w", err)
	}
	if c.WebhookURL != "" {
		u, err := url.Parse(c.WebhookURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Config{}, fmt.Errorf("pusherlocal config: WebhookURL %q is not an absolute http(s) URL", c.WebhookURL)
		}
	}
	if c.ActivityTimeout <= 0 {
		c.ActivityTimeout = DefaultActivityTimeout
	}
	if c.PongTimeout <= 0 {
		c.PongTimeout = DefaultPongTimeout
	}
	if c.MemberRemovedDelay <= 0 {
		c.MemberRemovedDelay = DefaultMemberRemovedDelay
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.MaxChannelsPerConnection <= 0 {
		c.MaxChannelsPerConnection = DefaultMaxChannelsPerConnection
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: defaultWebhookTimeout}
	}
	return c, nil
}

// announcedActivityTimeout is the activity_timeout sent in
// connection_established: whole seconds, and never 0, which pusher-js rejects.
func (c Config) announcedActivityTimeout() int {
	s := int(c.ActivityTimeout / time.Second)
	if s < 1 {
		return 1
	}
	return s
}
