// Package realtime delivers chatwire's events through Pusher Channels (or any
// Pusher-protocol server) with pusher-http-go.
package realtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/pusher/pusher-http-go/v5"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/config"
)

// Pusher's limits on one HTTP call (https://pusher.com/docs/channels/library_auth_reference/rest-api/).
const (
	MaxChannelsPerEvent = 100
	MaxEventsPerBatch   = 10
	MaxEventDataBytes   = 10 * 1024
)

// DefaultTimeout bounds a Pusher call when the caller's context has no deadline.
const DefaultTimeout = 3 * time.Second

// Pusher publishes events and signs channel subscriptions for one Pusher app.
// It is safe for concurrent use.
type Pusher struct {
	base      pusher.Client
	transport http.RoundTripper
	// Log hears about events left out because Pusher would refuse their
	// channel; nil discards.
	Log *slog.Logger
}

// New returns a Pusher for the configured app. It makes no network call. A
// nil transport takes a keep-alive one of its own (NewTransport).
func New(cfg config.Pusher, transport http.RoundTripper) *Pusher {
	if transport == nil {
		transport = NewTransport()
	}
	return &Pusher{
		base: pusher.Client{
			AppID:   cfg.AppID,
			Key:     cfg.Key,
			Secret:  cfg.Secret,
			Cluster: cfg.Cluster,
			Host:    cfg.Host,
			// pusher-http-go defaults to plain HTTP; config only allows that
			// for a loopback host.
			Secure: cfg.UseTLS,
		},
		transport: transport,
	}
}

// client returns a copy of the client whose HTTP timeout is what is left of
// ctx: pusher-http-go takes no context, so the deadline travels this way. A
// fresh copy per call also avoids the library's lazy, racy HTTPClient set-up.
func (p *Pusher) client(ctx context.Context) (*pusher.Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	timeout := DefaultTimeout
	if deadline, ok := ctx.Deadline(); ok {
		timeout = time.Until(deadline)
		if timeout <= 0 {
			return nil, context.DeadlineExceeded
		}
	}
	c := p.base
	c.HTTPClient = &http.Client{Transport: p.transport, Timeout: timeout}
	return &c, nil
}

// Publish triggers the events in as few calls as Pusher allows: events that
// carry the same name and data go out as one multi-channel trigger (up to 100
// channels), the rest in batches of up to 10.
func (p *Pusher) Publish(ctx context.Context, events []chat.Event) error {
	calls, invalid := plan(events)
	for _, e := range invalid {
		if p.Log != nil {
			p.Log.WarnContext(ctx, "event left out: Pusher refuses its channel name", "event", e.Name, "seq", e.Seq, "channel_length", len(e.Channel))
		}
	}
	for _, call := range calls {
		c, err := p.client(ctx)
		if err != nil {
			return fmt.Errorf("realtime: publish: %w", err)
		}
		if call.multi != nil {
			err = c.TriggerMulti(call.multi.channels, call.multi.name, []byte(call.multi.data))
		} else {
			_, err = c.TriggerBatch(call.batch)
		}
		if err != nil {
			return fmt.Errorf("realtime: publish %d events: %w", call.size(), sanitize(err))
		}
	}
	return nil
}

// Check asks Pusher for one channel's state, proving the credentials and the
// connection work. Used by /api/health.
func (p *Pusher) Check(ctx context.Context) error {
	c, err := p.client(ctx)
	if err != nil {
		return fmt.Errorf("realtime: check: %w", err)
	}
	if _, err := c.Channel("private-health-check", pusher.ChannelParams{}); err != nil {
		return fmt.Errorf("realtime: check: %w", sanitize(err))
	}
	return nil
}

// AuthorizeChannel signs a subscription request (the form body pusher-js
// posts: socket_id and channel_name). Presence subscriptions also carry the
// member's data.
func (p *Pusher) AuthorizeChannel(params []byte, member *chat.PresenceMember) ([]byte, error) {
	c := p.base
	if member == nil {
		return c.AuthorizePrivateChannel(params)
	}
	info := make(map[string]string, len(member.Info))
	for k, v := range member.Info {
		info[k] = v
	}
	return c.AuthorizePresenceChannel(params, pusher.MemberData{UserID: member.UserID, UserInfo: info})
}

// ErrBadWebhook is returned for a webhook whose key or signature is wrong.
var ErrBadWebhook = errors.New("realtime: webhook key or signature invalid")

// Webhook checks a Pusher webhook's X-Pusher-Key and X-Pusher-Signature and
// returns its events.
func (p *Pusher) Webhook(header http.Header, body []byte) (*pusher.Webhook, error) {
	c := p.base
	hook, err := c.Webhook(header, body)
	if err != nil {
		return nil, ErrBadWebhook
	}
	return hook, nil
}

// sanitize drops the request URL from transport errors: it carries the
// request signature and is noise in logs.
func sanitize(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return fmt.Errorf("%s pusher: %w", uerr.Op, uerr.Err)
	}
	return err
}
