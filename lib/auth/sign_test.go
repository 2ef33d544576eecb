package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/auth"
)

// sign mints a token with SignHS256 and testSecret, valid for an hour.
func sign(tb testing.TB, u auth.User, opts ...auth.SignOption) string {
	tb.Helper()
	tok, err := auth.SignHS256(testSecret, u, time.Hour, opts...)
	if err != nil {
		tb.Fatalf("SignHS256: %v", err)
	}
	return tok
}

func TestSignHS256RoundTrip(t *testing.T) {
	v := newVerifier(t, auth.Config{JWTSecret: testSecret, Issuer: "chatwire-dev", Audience: "chatwire"}, nil)
	tok := sign(t, auth.User{ID: "auth0|64f1", Name: "Bob"}, auth.WithIssuer("chatwire-dev"), auth.WithAudience("chatwire"))
	u, err := v.Verify(bg, tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got, want := u, (auth.User{ID: "auth0|64f1", Name: "Bob"}); got != want {
		t.Fatalf("user = %+v, want %+v", got, want)
	}

	// Without a name the verifier falls back to the id.
	u, err = v.Verify(bg, sign(t, auth.User{ID: "carol"}, auth.WithIssuer("chatwire-dev"), auth.WithAudience("chatwire")))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got, want := u.Name, "carol"; got != want {
		t.Fatalf("Name = %q, want %q", got, want)
	}
}

func TestSignHS256Times(t *testing.T) {
	v := newVerifier(t, auth.Config{JWTSecret: testSecret}, newClock())
	tests := []struct {
		name   string
		at     time.Time
		reason string
	}{
		{"current", t0, ""},
		{"expired", t0.Add(-2 * time.Hour), "token expired"},
		{"not yet valid", t0.Add(time.Hour), "not yet valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := sign(t, auth.User{ID: "alice"}, auth.WithIssuedAt(tt.at))
			_, err := v.Verify(bg, tok)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			wantUnauthorized(t, err, tt.reason, tok)
		})
	}
}

func TestSignHS256RejectsBadInput(t *testing.T) {
	short := "too-short-secret"
	tests := []struct {
		name   string
		secret string
		u      auth.User
		ttl    time.Duration
		want   string
	}{
		{"short secret", short, auth.User{ID: "alice"}, time.Hour, "too short"},
		{"empty id", testSecret, auth.User{Name: "Alice"}, time.Hour, "user id"},
		{"zero ttl", testSecret, auth.User{ID: "alice"}, 0, "ttl"},
		{"negative ttl", testSecret, auth.User{ID: "alice"}, -time.Hour, "ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := auth.SignHS256(tt.secret, tt.u, tt.ttl)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), tt.secret) {
				t.Fatalf("err echoes the secret")
			}
		})
	}
}
