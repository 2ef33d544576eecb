package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/auth"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

func wantRequests(tb testing.TB, srv *jwksServer, want int64) {
	tb.Helper()
	if got := srv.requests.Load(); got != want {
		tb.Fatalf("JWKS requests = %d, want %d", got, want)
	}
}

func TestJWKSFetchedLazilyAndCached(t *testing.T) {
	k := getKeys(t)
	srv := standardJWKS(t)
	clock := newClock()
	v := newVerifier(t, auth.Config{JWKSURL: srv.URL}, clock)
	wantRequests(t, srv, 0) // NewVerifier does no I/O

	for i := 0; i < 5; i++ {
		if _, err := v.Verify(bg, mint(t, jwa.RS256, k.rsa, "rsa-1", claims(clock.Now()))); err != nil {
			t.Fatalf("Verify #%d: %v", i, err)
		}
		clock.Advance(time.Minute)
	}
	wantRequests(t, srv, 1)

	// Past the refresh interval the next Verify refetches once.
	clock.Advance(5 * time.Minute)
	for i := 0; i < 3; i++ {
		if _, err := v.Verify(bg, mint(t, jwa.ES256, k.ec, "ec-1", claims(clock.Now()))); err != nil {
			t.Fatalf("Verify after refresh interval: %v", err)
		}
	}
	wantRequests(t, srv, 2)
}

func TestJWKSUnknownKidRefetchesOnceAndAcceptsRotatedKey(t *testing.T) {
	k := getKeys(t)
	srv := standardJWKS(t)
	clock := newClock()
	v := newVerifier(t, auth.Config{JWKSURL: srv.URL}, clock)

	if _, err := v.Verify(bg, mint(t, jwa.RS256, k.rsa, "rsa-1", claims(clock.Now()))); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	wantRequests(t, srv, 1)

	// The issuer rotates in a new key.
	rotated, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv.setKeys(t,
		publicJWK(t, &k.rsa.PublicKey, "rsa-1", jwa.RS256),
		publicJWK(t, &rotated.PublicKey, "ec-2", jwa.ES256),
	)

	// Within the rate-limit interval of the last fetch, an unknown kid is
	// refused without a request.
	tok := mint(t, jwa.ES256, rotated, "ec-2", claims(clock.Now()))
	_, err = v.Verify(bg, tok)
	wantUnauthorized(t, err, "unknown signing key", tok)
	wantRequests(t, srv, 1)

	// Later, the unknown kid triggers exactly one refetch, which finds it.
	clock.Advance(11 * time.Second)
	tok = mint(t, jwa.ES256, rotated, "ec-2", claims(clock.Now()))
	if _, err := v.Verify(bg, tok); err != nil {
		t.Fatalf("Verify with rotated key: %v", err)
	}
	wantRequests(t, srv, 2)
	if _, err := v.Verify(bg, tok); err != nil {
		t.Fatalf("Verify with rotated key, cached: %v", err)
	}
	wantRequests(t, srv, 2)

	// A flood of random kids costs one request per interval at most.
	clock.Advance(11 * time.Second)
	for i := 0; i < 20; i++ {
		tok := mint(t, jwa.ES256, rotated, fmt.Sprintf("random-%d", i), claims(clock.Now()))
		_, err := v.Verify(bg, tok)
		wantUnauthorized(t, err, "unknown signing key", tok)
	}
	wantRequests(t, srv, 3)

	// The key dropped from the JWKS no longer verifies after the refetch.
	tok = mint(t, jwa.ES256, k.ec, "ec-1", claims(clock.Now()))
	_, err = v.Verify(bg, tok)
	wantUnauthorized(t, err, "unknown signing key", tok)
	wantRequests(t, srv, 3)
}

func TestJWKSUnknownKidFloodConcurrent(t *testing.T) {
	k := getKeys(t)
	srv := standardJWKS(t)
	v := newVerifier(t, auth.Config{JWKSURL: srv.URL}, newClock())
	good := mint(t, jwa.RS256, k.rsa, "rsa-1", claims(t0))

	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 50; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := v.Verify(bg, good); err != nil {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			_, err := v.Verify(bg, mint(t, jwa.RS256, k.rsa, fmt.Sprintf("random-%d", i), claims(t0)))
			if !errors.Is(err, auth.ErrUnauthorized) {
				errs <- fmt.Errorf("random kid: %v", err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The first fetch; the clock stands still, so no refetch is allowed.
	wantRequests(t, srv, 1)
}

func TestJWKSOutage(t *testing.T) {
	k := getKeys(t)
	srv := standardJWKS(t)
	clock := newClock()
	v := newVerifier(t, auth.Config{JWKSURL: srv.URL}, clock)

	// Cold start against a failing endpoint: a server-side error, not 401.
	srv.setStatus(http.StatusServiceUnavailable)
	_, err := v.Verify(bg, mint(t, jwa.RS256, k.rsa, "rsa-1", claims(clock.Now())))
	if !errors.Is(err, auth.ErrKeysUnavailable) || errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrKeysUnavailable and not ErrUnauthorized", err)
	}
	wantRequests(t, srv, 1)

	// Retries are spaced.
	_, err = v.Verify(bg, mint(t, jwa.RS256, k.rsa, "rsa-1", claims(clock.Now())))
	if !errors.Is(err, auth.ErrKeysUnavailable) {
		t.Fatalf("err = %v, want ErrKeysUnavailable", err)
	}
	wantRequests(t, srv, 1)

	// Recovery.
	srv.setStatus(http.StatusOK)
	clock.Advance(11 * time.Second)
	if _, err := v.Verify(bg, mint(t, jwa.RS256, k.rsa, "rsa-1", claims(clock.Now()))); err != nil {
		t.Fatalf("Verify after recovery: %v", err)
	}
	wantRequests(t, srv, 2)

	// A failing periodic refresh keeps the cached keys.
	srv.setStatus(http.StatusInternalServerError)
	clock.Advance(6 * time.Minute)
	if _, err := v.Verify(bg, mint(t, jwa.RS256, k.rsa, "rsa-1", claims(clock.Now()))); err != nil {
		t.Fatalf("Verify with stale keys during outage: %v", err)
	}
	wantRequests(t, srv, 3)
}

func TestJWKSBadResponses(t *testing.T) {
	k := getKeys(t)
	tests := []struct {
		name string
		body string
	}{
		{"not JSON", "<html>"},
		{"empty set", `{"keys":[]}`},
		{"only symmetric keys", `{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJWKSServer(t)
			srv.mu.Lock()
			srv.body = []byte(tt.body)
			srv.mu.Unlock()
			v := newVerifier(t, auth.Config{JWKSURL: srv.URL}, newClock())
			_, err := v.Verify(bg, mint(t, jwa.RS256, k.rsa, "rsa-1", claims(t0)))
			if !errors.Is(err, auth.ErrKeysUnavailable) {
				t.Fatalf("err = %v, want ErrKeysUnavailable", err)
			}
		})
	}
}

func TestJWKSFetchHonoursContext(t *testing.T) {
	k := getKeys(t)
	srv := standardJWKS(t)
	v := newVerifier(t, auth.Config{JWKSURL: srv.URL}, newClock())
	ctx, cancel := context.WithCancel(bg)
	cancel()
	_, err := v.Verify(ctx, mint(t, jwa.RS256, k.rsa, "rsa-1", claims(t0)))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// A cancelled caller does not hold back the next one.
	if _, err := v.Verify(bg, mint(t, jwa.RS256, k.rsa, "rsa-1", claims(t0))); err != nil {
		t.Fatalf("Verify after a cancelled one: %v", err)
	}
}

func TestJWKSFetchTimesOut(t *testing.T) {
	k := getKeys(t)
	release := make(chan struct{})
	srv := newJWKSServer(t, publicJWK(t, &k.rsa.PublicKey, "rsa-1", jwa.RS256))
	srv.mu.Lock()
	srv.hold = release
	srv.mu.Unlock()
	defer close(release)
	v := newVerifier(t, auth.Config{JWKSURL: srv.URL}, newClock())
	ctx, cancel := context.WithTimeout(bg, 100*time.Millisecond)
	defer cancel()
	_, err := v.Verify(ctx, mint(t, jwa.RS256, k.rsa, "rsa-1", claims(t0)))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
}

func TestJWKSKeySelection(t *testing.T) {
	k := getKeys(t)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	encKey := publicJWK(t, &k.rsaOther.PublicKey, "enc-1", "")
	if err := encKey.Set(jwk.KeyUsageKey, "enc"); err != nil {
		t.Fatal(err)
	}
	srv := newJWKSServer(t,
		publicJWK(t, &k.rsa.PublicKey, "rsa-noalg", ""), // alg omitted: type decides
		publicJWK(t, &weak.PublicKey, "weak", jwa.RS256),
		publicJWK(t, &p384.PublicKey, "ec-384", ""),
		publicJWK(t, &k.ec.PublicKey, "ec-256", ""),
		encKey,
	)
	v := newVerifier(t, auth.Config{JWKSURL: srv.URL}, newClock())
	c := claims(t0)

	tests := []struct {
		name   string
		token  string
		reason string // empty = accepted
	}{
		{"RS256 with alg-less RSA key", mint(t, jwa.RS256, k.rsa, "rsa-noalg", c), ""},
		{"PS512 with alg-less RSA key", mint(t, jwa.PS512, k.rsa, "rsa-noalg", c), ""},
		{"ES384 on P-384", mint(t, jwa.ES384, p384, "ec-384", c), ""},
		{"ES256 claimed for P-384 key", mint(t, jwa.ES256, k.ec, "ec-384", c), "key does not match algorithm"},
		{"ES384 claimed for P-256 key", mint(t, jwa.ES384, p384, "ec-256", c), "key does not match algorithm"},
		{"EdDSA claimed for RSA key", mint(t, jwa.EdDSA, k.ed, "rsa-noalg", c), "key does not match algorithm"},
		{"1024-bit RSA key ignored", mint(t, jwa.RS256, weak, "weak", c), "unknown signing key"},
		{"encryption key ignored", mint(t, jwa.RS256, k.rsaOther, "enc-1", c), "unknown signing key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(bg, tt.token)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			wantUnauthorized(t, err, tt.reason, tt.token)
		})
	}
}
