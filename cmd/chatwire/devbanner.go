package main

import (
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/chatwire/chatwire/lib/auth"
)

// devTokenTTL is how long the banner's tokens are valid: a working day and
// then some, across restarts, since the secret is kept.
const devTokenTTL = 24 * time.Hour

// devToken is a ready-to-use token of the banner.
type devToken struct {
	variable string // the shell variable the banner exports it as
	user     auth.User
	token    string
}

// devTokens mints the banner's tokens, one per demo user (alice's is TOKEN,
// the curl line's; the others are BOB_TOKEN, CAROL_TOKEN, …); none when the
// environment verifies tokens with AUTH_JWKS_URL, since dev then holds no
// signing key.
func devTokens(getenv func(string) string) ([]devToken, error) {
	secret := getenv("AUTH_JWT_SECRET")
	if secret == "" {
		return nil, nil
	}
	tokens := make([]devToken, len(demoUsers))
	for i, user := range demoUsers {
		tokens[i] = devToken{variable: strings.ToUpper(user.ID) + "_TOKEN", user: user}
	}
	tokens[0].variable = "TOKEN"
	for i := range tokens {
		token, err := auth.SignHS256(secret, tokens[i].user, devTokenTTL, signOptions(getenv)...)
		if err != nil {
			return nil, fmt.Errorf("token for %s: %w", tokens[i].user.ID, err)
		}
		tokens[i].token = token
	}
	return tokens, nil
}

// devBanner is what dev prints once it serves. It deliberately shows
// development tokens and the Pusher key (public in any browser), never
// PUSHER_SECRET or the other secrets.
type devBanner struct {
	addrs       listening
	pusher      pusherApp
	database    string
	files       string
	secretsFile string
	cors        string // the CORS_ALLOWED_ORIGINS dev runs with
	tokens      []devToken
}

func (b devBanner) print(w io.Writer) {
	var s strings.Builder
	// The first line is for scripts and tests: the bound addresses.
	fmt.Fprintf(&s, "chatwire dev: listening app=%s pusher=%s\n\n", b.addrs.App, b.addrs.Pusher)
	fmt.Fprintf(&s, "  API       %s  (health: %s/api/health)\n", b.addrs.App, b.addrs.App)
	fmt.Fprintf(&s, "  Pusher    %s  app id %s, key %s, no TLS\n", b.addrs.Pusher, b.pusher.AppID, b.pusher.Key)
	fmt.Fprintf(&s, "  Postgres  %s\n", b.database)
	fmt.Fprintf(&s, "  Files     %s\n", b.files)
	fmt.Fprintf(&s, "  Secrets   %s (variables set in the environment win; `chatwire token` run in this folder uses it)\n", b.secretsFile)
	fmt.Fprintf(&s, "  CORS      %s (CORS_ALLOWED_ORIGINS)\n\n", b.cors)

	if len(b.tokens) == 0 {
		s.WriteString("Tokens come from your identity provider (AUTH_JWKS_URL is set).\n\n")
	} else {
		fmt.Fprintf(&s, "Development tokens, valid for %d hours:\n", int(devTokenTTL.Hours()))
		for _, t := range b.tokens {
			fmt.Fprintf(&s, "  export %s=%s  # %s\n", t.variable, t.token, t.user.ID)
		}
		fmt.Fprintf(&s, "\nSend a message from alice to bob:\n")
		fmt.Fprintf(&s, "  curl -s -X POST %s/api/messages/send -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d '{\"to\":\"bob\",\"body\":\"hello\"}'\n\n", b.addrs.App)
	}

	host, port, _ := net.SplitHostPort(b.addrs.Pusher)
	s.WriteString("Next.js app (.env.local; README.md's frontend section and examples/nextjs read these):\n")
	fmt.Fprintf(&s, "  CHATWIRE_URL=%s\n  CHATWIRE_PUSHER_KEY=%s\n", b.addrs.App, b.pusher.Key)
	fmt.Fprintf(&s, "  CHATWIRE_PUSHER_WS_HOST=%s\n  CHATWIRE_PUSHER_WS_PORT=%s\n\n", host, port)
	fmt.Fprintf(&s, "pusher-js:\n  new Pusher(%q, { cluster: \"local\", wsHost: %q, wsPort: %s, forceTLS: false, enabledTransports: [\"ws\"],\n", b.pusher.Key, host, port)
	fmt.Fprintf(&s, "    channelAuthorization: { endpoint: %q, transport: \"ajax\", headers: { Authorization: \"Bearer \" + token } } })\n\n", b.addrs.App+"/api/pusher/auth")
	s.WriteString("Stop with Ctrl-C.\n")
	io.WriteString(w, s.String())
}
