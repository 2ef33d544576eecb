package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/auth"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// testSecret is long enough for auth.MinSecretBytes.
const testSecret = "test-secret-0123456789-abcdefghijklmnop"

// t0 is the fixed "now" of most tests; a fixed clock keeps exp/nbf cases exact.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fakeClock is a settable clock shared by a verifier and the test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testKeys are generated once per test binary; RSA generation is slow.
type testKeys struct {
	rsa, rsaOther *rsa.PrivateKey
	ec            *ecdsa.PrivateKey
	ed            ed25519.PrivateKey
}

var (
	keysOnce sync.Once
	keys     testKeys
)

func getKeys(tb testing.TB) testKeys {
	tb.Helper()
	keysOnce.Do(func() {
		var err error
		must := func(e error) {
			if e != nil && err == nil {
				err = e
			}
		}
		var e error
		keys.rsa, e = rsa.GenerateKey(rand.Reader, 2048)
		must(e)
		keys.rsaOther, e = rsa.GenerateKey(rand.Reader, 2048)
		must(e)
		keys.ec, e = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(e)
		_, keys.ed, e = ed25519.GenerateKey(rand.Reader)
		must(e)
		if err != nil {
			panic(err)
		}
	})
	return keys
}

// claims returns a valid claim set at now for user alice.
func claims(now time.Time) map[string]any {
	return map[string]any{
		"sub": "alice",
		"iat": now,
		"exp": now.Add(time.Hour),
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func without(m map[string]any, names ...string) map[string]any {
	out := with(m)
	for _, n := range names {
		delete(out, n)
	}
	return out
}

// mintRaw signs a payload given byte for byte with HS256, for claims a JSON
// encoder would never write (invalid UTF-8).
func mintRaw(tb testing.TB, key []byte, payload string) string {
	tb.Helper()
	b, err := jws.Sign([]byte(payload), jws.WithKey(jwa.HS256, key))
	if err != nil {
		tb.Fatalf("sign: %v", err)
	}
	return string(b)
}

// mint signs claims with alg and key, putting kid in the protected header
// when non-empty.
func mint(tb testing.TB, alg jwa.SignatureAlgorithm, key any, kid string, c map[string]any) string {
	tb.Helper()
	tok := jwt.New()
	for k, v := range c {
		if err := tok.Set(k, v); err != nil {
			tb.Fatalf("set claim %s: %v", k, err)
		}
	}
	hdr := jws.NewHeaders()
	if kid != "" {
		if err := hdr.Set(jws.KeyIDKey, kid); err != nil {
			tb.Fatal(err)
		}
	}
	b, err := jwt.Sign(tok, jwt.WithKey(alg, key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		tb.Fatalf("sign %s: %v", alg, err)
	}
	return string(b)
}

// unsigned builds an alg "none" token by hand; jwx refuses to.
func unsigned(tb testing.TB, header map[string]any, c map[string]any) string {
	tb.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	payload := with(c)
	for k, v := range c {
		if t, ok := v.(time.Time); ok {
			payload[k] = t.Unix()
		}
	}
	return enc(header) + "." + enc(payload) + "."
}

// publicJWK turns a raw public key into a JWK with kid and alg.
func publicJWK(tb testing.TB, raw any, kid string, alg jwa.SignatureAlgorithm) jwk.Key {
	tb.Helper()
	k, err := jwk.FromRaw(raw)
	if err != nil {
		tb.Fatal(err)
	}
	if err := k.Set(jwk.KeyIDKey, kid); err != nil {
		tb.Fatal(err)
	}
	if alg != "" {
		if err := k.Set(jwk.AlgorithmKey, alg); err != nil {
			tb.Fatal(err)
		}
	}
	return k
}

// jwksServer serves a replaceable key set and counts requests.
type jwksServer struct {
	*httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	body     []byte
	status   int
	hold     chan struct{} // when non-nil, responses wait for it to close
}

func newJWKSServer(tb testing.TB, ks ...jwk.Key) *jwksServer {
	tb.Helper()
	s := &jwksServer{status: http.StatusOK}
	s.setKeys(tb, ks...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		status, body, hold := s.status, s.body, s.hold
		s.mu.Unlock()
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	tb.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setKeys(tb testing.TB, ks ...jwk.Key) {
	tb.Helper()
	set := jwk.NewSet()
	for _, k := range ks {
		if err := set.AddKey(k); err != nil {
			tb.Fatal(err)
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		tb.Fatal(err)
	}
	s.mu.Lock()
	s.body = b
	s.mu.Unlock()
}

func (s *jwksServer) setStatus(code int) {
	s.mu.Lock()
	s.status = code
	s.mu.Unlock()
}

// standardJWKS serves RS256 "rsa-1", ES256 "ec-1", EdDSA "ed-1" and PS256
// "rsa-ps" keys.
func standardJWKS(tb testing.TB) *jwksServer {
	tb.Helper()
	k := getKeys(tb)
	return newJWKSServer(tb,
		publicJWK(tb, &k.rsa.PublicKey, "rsa-1", jwa.RS256),
		publicJWK(tb, &k.ec.PublicKey, "ec-1", jwa.ES256),
		publicJWK(tb, k.ed.Public(), "ed-1", jwa.EdDSA),
		publicJWK(tb, &k.rsa.PublicKey, "rsa-ps", jwa.PS256),
	)
}

func newVerifier(tb testing.TB, cfg auth.Config, clock *fakeClock) *auth.Verifier {
	tb.Helper()
	v, err := auth.NewVerifier(cfg)
	if err != nil {
		tb.Fatalf("NewVerifier: %v", err)
	}
	if clock != nil {
		auth.SetClock(v, clock.Now)
	}
	return v
}

// wantUnauthorized checks that err is an ErrUnauthorized with reason and
// that it does not quote the token.
func wantUnauthorized(tb testing.TB, err error, reason, token string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("Verify succeeded, want %q", reason)
	}
	if !errors.Is(err, auth.ErrUnauthorized) {
		tb.Fatalf("err = %v, want it to wrap ErrUnauthorized", err)
	}
	if got := err.Error(); !strings.Contains(got, reason) {
		tb.Fatalf("err = %q, want reason %q", got, reason)
	}
	if len(token) > 3 && strings.Contains(err.Error(), token) {
		tb.Fatalf("error quotes the token")
	}
}

var bg = context.Background()
