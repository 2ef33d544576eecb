package auth_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/chatwire/chatwire/lib/auth"
)

// An accepted token is remembered, and a remembered one still expires on time.
func TestVerifyCachesAcceptedTokensUntilTheyExpire(t *testing.T) {
	clock := newClock()
	v := newVerifier(t, auth.Config{JWTSecret: testSecret, Leeway: 5 * time.Second}, clock)
	secret := []byte(testSecret)
	tok := mint(t, jwa.HS256, secret, "", with(claims(t0), "exp", t0.Add(2*time.Minute), "name", "Alice"))
	for i := range 2 {
		u, err := v.Verify(bg, tok)
		if err != nil || u != (auth.User{ID: "alice", Name: "Alice"}) {
			t.Fatalf("verify %d = %+v, %v", i+1, u, err)
		}
	}
	if got := auth.CachedTokens(v); got != 1 {
		t.Fatalf("cached = %d, want 1", got)
	}
	// Refused tokens are not remembered.
	bad := mint(t, jwa.HS256, []byte("another-secret-of-at-least-32-bytes!"), "", claims(t0))
	_, err := v.Verify(bg, bad)
	wantUnauthorized(t, err, "bad signature", bad)
	if got := auth.CachedTokens(v); got != 1 {
		t.Fatalf("cached after a refusal = %d, want 1", got)
	}
	// Within the leeway past exp: still accepted.
	clock.Advance(2*time.Minute + 3*time.Second)
	if _, err := v.Verify(bg, tok); err != nil {
		t.Fatalf("3 s past exp with 5 s leeway: %v", err)
	}
	// Past it: expired, cached or not.
	clock.Advance(3 * time.Second)
	_, err = v.Verify(bg, tok)
	wantUnauthorized(t, err, "token expired", tok)
}

// A long-lived token is verified again after maxCacheLife (5 min), so a key
// withdrawn from the JWKS stops being honoured; a full cache stays bounded.
func TestTokenCacheIsBoundedInTimeAndSize(t *testing.T) {
	clock := newClock()
	v := newVerifier(t, auth.Config{JWTSecret: testSecret}, clock)
	auth.SetCacheLimit(v, 3)
	secret := []byte(testSecret)
	for i := range 10 {
		tok := mint(t, jwa.HS256, secret, "", with(claims(t0), "sub", fmt.Sprint("user-", i)))
		if u, err := v.Verify(bg, tok); err != nil || u.ID != fmt.Sprint("user-", i) {
			t.Fatalf("verify user-%d = %+v, %v", i, u, err)
		}
		if got := auth.CachedTokens(v); got > 3 {
			t.Fatalf("cached = %d, want at most 3", got)
		}
	}
	long := mint(t, jwa.HS256, secret, "", claims(t0)) // exp in an hour
	if _, err := v.Verify(bg, long); err != nil {
		t.Fatal(err)
	}
	// The verifier's secret changes under the cache: within 5 min the cache
	// answers, after it the token is checked again and refused.
	other := newVerifier(t, auth.Config{JWTSecret: "a-rotated-secret-of-at-least-32-bytes"}, clock)
	auth.CopyCache(other, v)
	clock.Advance(4 * time.Minute)
	if _, err := other.Verify(bg, long); err != nil {
		t.Fatalf("within the cache life: %v", err)
	}
	clock.Advance(time.Minute)
	_, err := other.Verify(bg, long)
	wantUnauthorized(t, err, "bad signature", long)
}
