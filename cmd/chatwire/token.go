package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/chatwire/chatwire/lib/auth"
)

const tokenHelp = `
Prints a JWT for the user, signed with AUTH_JWT_SECRET (HS256), which every
route accepts as "Authorization: Bearer <token>" when the server has the same
secret. Without AUTH_JWT_SECRET in the environment it uses the one of
` + "`chatwire dev`" + ` run in the same folder (.chatwire/secrets.env). AUTH_ISSUER and
AUTH_AUDIENCE, when set, become the token's iss and aud. For development: in
production your identity provider issues tokens.
`

func (c *cli) token(ctx context.Context, args []string) error {
	fs := c.flagSet("token", tokenHelp)
	name := fs.String("name", "", "display name (the token's name claim)")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token stays valid")
	positional, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 || strings.TrimSpace(positional[0]) == "" {
		fs.SetOutput(c.stderr)
		fs.Usage()
		return &usageError{"token: give exactly one user id"}
	}
	if *ttl <= 0 {
		return &usageError{"token: --ttl must be positive"}
	}
	secret, err := signingSecret(c.devSecretFallback(c.getenv))
	if err != nil {
		return err
	}
	token, err := auth.SignHS256(secret, auth.User{ID: positional[0], Name: *name}, *ttl, signOptions(c.getenv)...)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	fmt.Fprintln(c.stdout, token)
	return nil
}

// devSecretFallback adds dev's AUTH_JWT_SECRET, from .chatwire/secrets.env in
// the working directory, to an environment that has none (and no JWKS URL):
// tokens for the dev running in this folder. It says so on stderr.
func (c *cli) devSecretFallback(getenv func(string) string) func(string) string {
	if getenv("AUTH_JWT_SECRET") != "" || strings.TrimSpace(getenv("AUTH_JWKS_URL")) != "" {
		return getenv
	}
	path := filepath.Join(devDir, "secrets.env")
	secrets, err := readEnvFile(path)
	if err != nil || secrets["AUTH_JWT_SECRET"] == "" {
		return getenv
	}
	fmt.Fprintf(c.stderr, "token: AUTH_JWT_SECRET from %s (chatwire dev's)\n", path)
	return func(name string) string {
		if name == "AUTH_JWT_SECRET" {
			return secrets[name]
		}
		return getenv(name)
	}
}

// signingSecret is AUTH_JWT_SECRET, checked as the server checks it.
func signingSecret(getenv func(string) string) (string, error) {
	secret := getenv("AUTH_JWT_SECRET")
	switch {
	case secret == "" && strings.TrimSpace(getenv("AUTH_JWKS_URL")) != "":
		return "", errors.New("AUTH_JWT_SECRET is required to sign tokens; with AUTH_JWKS_URL, tokens come from your identity provider")
	case secret == "":
		return "", fmt.Errorf("AUTH_JWT_SECRET is required to sign tokens; `chatwire dev` keeps its own in %s of the folder it runs in: run token there, or export AUTH_JWT_SECRET", filepath.Join(devDir, "secrets.env"))
	case len(secret) < auth.MinSecretBytes:
		return "", fmt.Errorf("AUTH_JWT_SECRET must be at least %d bytes", auth.MinSecretBytes)
	}
	return secret, nil
}

// signOptions make tokens pass the issuer and audience checks the server
// applies when AUTH_ISSUER or AUTH_AUDIENCE are set.
func signOptions(getenv func(string) string) []auth.SignOption {
	var opts []auth.SignOption
	if iss := strings.TrimSpace(getenv("AUTH_ISSUER")); iss != "" {
		opts = append(opts, auth.WithIssuer(iss))
	}
	if aud := strings.TrimSpace(getenv("AUTH_AUDIENCE")); aud != "" {
		opts = append(opts, auth.WithAudience(aud))
	}
	return opts
}
