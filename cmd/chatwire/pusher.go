package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"github.com/chatwire/chatwire/lib/httpapi"
	"github.com/chatwire/chatwire/lib/pusherlocal"
)

const pusherHelp = `
Runs only the built-in Pusher-protocol server: a local Pusher Channels for any
app, speaking the WebSocket protocol pusher-js uses and the HTTP API of the
Pusher server libraries. It hosts one app, configured by PUSHER_APP_ID (numeric),
PUSHER_KEY and PUSHER_SECRET. --webhook receives channel and presence
webhooks, such as chatwire's /api/pusher/webhook.
`

func (c *cli) pusher(ctx context.Context, args []string) error {
	fs := c.flagSet("pusher", pusherHelp)
	addr := fs.String("addr", "127.0.0.1:6001", "listen address (127.0.0.1: this machine only; :6001 for every interface)")
	webhook := fs.String("webhook", "", "URL that receives the webhooks, e.g. http://127.0.0.1:3000/api/pusher/webhook (none when empty)")
	if err := c.parseNoArgs(fs, args); err != nil {
		return err
	}
	app, err := pusherAppFromEnv(c.getenv)
	if err != nil {
		return err
	}
	log := httpapi.NewLogger(c.stderr)
	srv, err := startPusher(app, *addr, *webhook, log)
	if err != nil {
		return err
	}
	printPusherHowTo(c.stdout, app, srv.Addr(), *webhook)
	c.announce(listening{Pusher: srv.Addr()})

	<-ctx.Done()
	if err := srv.Close(); err != nil {
		return fmt.Errorf("pusher: %w", err)
	}
	return nil
}

// pusherApp are the credentials of the one app a local Pusher server hosts.
type pusherApp struct {
	AppID  string
	Key    string
	Secret string
}

// pusherAppFromEnv reads PUSHER_APP_ID, PUSHER_KEY and PUSHER_SECRET,
// reporting every missing one by name.
func pusherAppFromEnv(getenv func(string) string) (pusherApp, error) {
	app := pusherApp{
		AppID:  strings.TrimSpace(getenv("PUSHER_APP_ID")),
		Key:    strings.TrimSpace(getenv("PUSHER_KEY")),
		Secret: getenv("PUSHER_SECRET"),
	}
	var problems []error
	for _, v := range []struct{ name, value string }{
		{"PUSHER_APP_ID", app.AppID}, {"PUSHER_KEY", app.Key}, {"PUSHER_SECRET", app.Secret},
	} {
		if v.value == "" {
			problems = append(problems, fmt.Errorf("%s is required", v.name))
		}
	}
	if app.AppID != "" {
		// chatwire's config (and Pusher) want a numeric id; refuse here
		// too rather than host an app no client can be configured for.
		if _, err := strconv.ParseUint(app.AppID, 10, 64); err != nil {
			problems = append(problems, errors.New("PUSHER_APP_ID must be the numeric app id"))
		}
	}
	if err := errors.Join(problems...); err != nil {
		return pusherApp{}, fmt.Errorf("pusher: %w", err)
	}
	return app, nil
}

// startPusher starts a pusherlocal server for app on addr, sending webhooks
// (when webhookURL is set) to webhookURL.
func startPusher(app pusherApp, addr, webhookURL string, log *slog.Logger) (*pusherlocal.Server, error) {
	srv, err := pusherlocal.New(pusherlocal.Config{
		AppID:      app.AppID,
		Key:        app.Key,
		Secret:     app.Secret,
		WebhookURL: webhookURL,
		Logger:     log,
	})
	if err != nil {
		return nil, fmt.Errorf("pusher: %w", err)
	}
	if err := srv.Start(addr); err != nil {
		srv.Close() // stops the webhook worker New started
		return nil, fmt.Errorf("pusher: %w", err)
	}
	return srv, nil
}

// printPusherHowTo tells how to point an app at the server. It shows the
// key and app id, which browsers see anyway, and never the secret.
func printPusherHowTo(w io.Writer, app pusherApp, hostPort, webhookURL string) {
	host, port, _ := net.SplitHostPort(hostPort)
	webhooks := "off (--webhook URL turns them on)"
	if webhookURL != "" {
		webhooks = webhookURL
	}
	fmt.Fprintf(w, `chatwire pusher: listening pusher=%s

  App id    %s
  Key       %s
  Webhooks  %s

Point chatwire (or any Pusher server library) at it:
  PUSHER_HOST=%s PUSHER_USE_TLS=false PUSHER_APP_ID=%s PUSHER_KEY=%s PUSHER_SECRET=<the same secret>

and pusher-js:
  new Pusher(%q, { cluster: "local", wsHost: %q, wsPort: %s, forceTLS: false, enabledTransports: ["ws"] })
`, hostPort, app.AppID, app.Key, webhooks, hostPort, app.AppID, app.Key, app.Key, host, port)
}
