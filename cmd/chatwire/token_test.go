package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/lib/auth"
)

const testSecret = "0123456789abcdef0123456789abcdef-test"

func TestTokenIsVerifiedByAuth(t *testing.T) {
	var stdout strings.Builder
	env := envFrom(map[string]string{"AUTH_JWT_SECRET": testSecret})
	// Flags after the user id, as people type them.
	err := run(context.Background(), []string{"chatwire", "token", "alice", "--name", "Alice", "--ttl", "1h"}, env, &stdout, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(stdout.String())

	verifier, err := auth.NewVerifier(auth.Config{JWTSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	user, err := verifier.Verify(context.Background(), token)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if got, want := user, (auth.User{ID: "alice", Name: "Alice"}); got != want {
		t.Errorf("user = %+v, want %+v", got, want)
	}
	claims := tokenClaims(t, token)
	if got, want := claims.Exp-claims.Iat, int64(3600); got != want {
		t.Errorf("exp - iat = %d s, want %d", got, want)
	}
}

func TestTokenHonoursIssuerAndAudience(t *testing.T) {
	var stdout strings.Builder
	env := envFrom(map[string]string{"AUTH_JWT_SECRET": testSecret, "AUTH_ISSUER": "https://issuer.test", "AUTH_AUDIENCE": "chat"})
	if err := run(context.Background(), []string{"chatwire", "token", "--name", "Bob", "bob"}, env, &stdout, &strings.Builder{}); err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.NewVerifier(auth.Config{JWTSecret: testSecret, Issuer: "https://issuer.test", Audience: "chat"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifier.Verify(context.Background(), strings.TrimSpace(stdout.String())); err != nil {
		t.Fatalf("verify with issuer and audience: %v", err)
	}
}

func TestTokenNeedsAGoodSecret(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"unset": {},
		"short": {"AUTH_JWT_SECRET": "too-short-value"},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout strings.Builder
			err := run(context.Background(), []string{"chatwire", "token", "alice"}, envFrom(env), &stdout, &strings.Builder{})
			if err == nil {
				t.Fatal("token succeeded")
			}
			if !strings.Contains(err.Error(), "AUTH_JWT_SECRET") {
				t.Errorf("error %q does not name AUTH_JWT_SECRET", err)
			}
			if strings.Contains(err.Error(), "too-short-value") {
				t.Errorf("error %q echoes the secret", err)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
}

type claims struct {
	Sub string `json:"sub"`
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
}

func tokenClaims(t *testing.T, token string) claims {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWS", token)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTokenUsesDevsSecretInDevsFolder(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := writeEnvFile(filepath.Join(devDir, "secrets.env"), map[string]string{"AUTH_JWT_SECRET": testSecret}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	if err := run(context.Background(), []string{"chatwire", "token", "carol"}, envFrom(nil), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.NewVerifier(auth.Config{JWTSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifier.Verify(context.Background(), strings.TrimSpace(stdout.String())); err != nil {
		t.Fatalf("the token is not signed with dev's secret: %v", err)
	}
	if !strings.Contains(stderr.String(), filepath.Join(devDir, "secrets.env")) || strings.Contains(stderr.String(), testSecret) {
		t.Errorf("stderr = %q, want where the secret came from, not the secret", stderr.String())
	}
}

func TestTokenWithoutASecretSaysWhereDevKeepsIt(t *testing.T) {
	t.Chdir(t.TempDir())
	err := run(context.Background(), []string{"chatwire", "token", "carol"}, envFrom(nil), &strings.Builder{}, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(devDir, "secrets.env")) {
		t.Errorf("error = %v, want it to name %s", err, filepath.Join(devDir, "secrets.env"))
	}
}
