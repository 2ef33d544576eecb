package auth_test

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/auth"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

func TestNewVerifierRejectsBadConfig(t *testing.T) {
	short := "short-secret-value"
	tests := []struct {
		name string
		cfg  auth.Config
		want string
	}{
		{"neither", auth.Config{}, "neither AUTH_JWT_SECRET nor AUTH_JWKS_URL"},
		{"both", auth.Config{JWTSecret: testSecret, JWKSURL: "https://example.com/jwks.json"}, "both set"},
		{"short secret", auth.Config{JWTSecret: short}, "AUTH_JWT_SECRET is too short"},
		{"relative url", auth.Config{JWKSURL: "/jwks.json"}, "not an absolute URL"},
		{"http remote", auth.Config{JWKSURL: "http://example.com/jwks.json"}, "must use https"},
		{"ftp", auth.Config{JWKSURL: "ftp://example.com/jwks.json"}, "must use https"},
		{"negative leeway", auth.Config{JWTSecret: testSecret, Leeway: -time.Second}, "leeway"},
		{"leeway over 5 s", auth.Config{JWTSecret: testSecret, Leeway: 6 * time.Second}, "leeway must be at most 5s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := auth.NewVerifier(tt.cfg)
			if err == nil {
				t.Fatal("NewVerifier succeeded, want error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %q, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), short) || strings.Contains(err.Error(), testSecret) {
				t.Fatalf("err = %q echoes the secret", err)
			}
		})
	}
}

func TestNewVerifierAcceptsGoodConfig(t *testing.T) {
	for _, cfg := range []auth.Config{
		{JWTSecret: testSecret},
		{JWKSURL: "https://example.supabase.co/auth/v1/.well-known/jwks.json"},
		{JWKSURL: "http://127.0.0.1:8080/jwks.json"},
		{JWKSURL: "http://localhost/jwks.json"},
		{JWKSURL: "http://[::1]:9/jwks.json"},
	} {
		if _, err := auth.NewVerifier(cfg); err != nil {
			t.Errorf("NewVerifier(%+v): %v", cfg, err)
		}
	}
}

func TestVerifyAcceptsValidTokens(t *testing.T) {
	k := getKeys(t)
	srv := standardJWKS(t)
	clock := newClock()
	hs := newVerifier(t, auth.Config{JWTSecret: testSecret}, clock)
	js := newVerifier(t, auth.Config{JWKSURL: srv.URL}, clock)
	c := claims(t0)

	tests := []struct {
		name  string
		v     *auth.Verifier
		token string
	}{
		{"HS256", hs, mint(t, jwa.HS256, []byte(testSecret), "", c)},
		{"HS256 with a kid", hs, mint(t, jwa.HS256, []byte(testSecret), "any", c)},
		{"RS256", js, mint(t, jwa.RS256, k.rsa, "rsa-1", c)},
		{"PS256", js, mint(t, jwa.PS256, k.rsa, "rsa-ps", c)},
		{"ES256", js, mint(t, jwa.ES256, k.ec, "ec-1", c)},
		{"EdDSA", js, mint(t, jwa.EdDSA, k.ed, "ed-1", c)},
		{"ES256 without kid", js, mint(t, jwa.ES256, k.ec, "", c)},
		{"expired within leeway", hs, mint(t, jwa.HS256, []byte(testSecret), "", with(c, "exp", t0.Add(-4*time.Second)))},
		{"nbf within leeway", hs, mint(t, jwa.HS256, []byte(testSecret), "", with(c, "nbf", t0.Add(4*time.Second)))},
		{"SignHS256", hs, sign(t, auth.User{ID: "alice"}, auth.WithIssuedAt(t0))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := tt.v.Verify(bg, tt.token)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got, want := u.ID, "alice"; got != want {
				t.Fatalf("ID = %q, want %q", got, want)
			}
		})
	}
}

func TestVerifyChecksIssuerAndAudience(t *testing.T) {
	clock := newClock()
	v := newVerifier(t, auth.Config{JWTSecret: testSecret, Issuer: "https://issuer.example", Audience: "authenticated"}, clock)
	c := with(claims(t0), "iss", "https://issuer.example", "aud", "authenticated")
	key := []byte(testSecret)

	tests := []struct {
		name   string
		claims map[string]any
		reason string // empty = accepted
	}{
		{"both match", c, ""},
		{"aud list containing ours", with(c, "aud", []string{"other", "authenticated"}), ""},
		{"wrong iss", with(c, "iss", "https://evil.example"), "wrong issuer"},
		{"missing iss", without(c, "iss"), "wrong issuer"},
		{"wrong aud", with(c, "aud", "anon"), "wrong audience"},
		{"missing aud", without(c, "aud"), "wrong audience"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := mint(t, jwa.HS256, key, "", tt.claims)
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

func TestVerifyRejects(t *testing.T) {
	k := getKeys(t)
	srv := standardJWKS(t)
	clock := newClock()
	hs := newVerifier(t, auth.Config{JWTSecret: testSecret}, clock)
	js := newVerifier(t, auth.Config{JWKSURL: srv.URL}, clock)
	c := claims(t0)
	secret := []byte(testSecret)

	// The RSA public key as an attacker would download it, in the forms an
	// algorithm-confusion attack feeds to HMAC.
	der, err := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	pkcs1 := x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)
	jwkJSON, err := json.Marshal(publicJWK(t, &k.rsa.PublicKey, "rsa-1", jwa.RS256))
	if err != nil {
		t.Fatal(err)
	}

	valid := mint(t, jwa.HS256, secret, "", c)
	parts := strings.Split(valid, ".")
	other := strings.Split(mint(t, jwa.HS256, secret, "", with(c, "sub", "mallory")), ".")
	tampered := parts[0] + "." + other[1] + "." + parts[2]
	oversized := mint(t, jwa.HS256, secret, "", with(c, "pad", strings.Repeat("x", auth.MaxTokenBytes)))

	tests := []struct {
		name   string
		v      *auth.Verifier
		token  string
		reason string
	}{
		{"HS expired", hs, mint(t, jwa.HS256, secret, "", with(c, "exp", t0.Add(-time.Minute))), "token expired"},
		{"RS expired", js, mint(t, jwa.RS256, k.rsa, "rsa-1", with(c, "exp", t0.Add(-time.Minute))), "token expired"},
		{"HS not yet valid", hs, mint(t, jwa.HS256, secret, "", with(c, "nbf", t0.Add(time.Minute))), "token not yet valid"},
		{"ES not yet valid", js, mint(t, jwa.ES256, k.ec, "ec-1", with(c, "nbf", t0.Add(time.Hour))), "token not yet valid"},
		{"issued in the future", hs, mint(t, jwa.HS256, secret, "", with(c, "iat", t0.Add(time.Hour))), "token not yet valid"},
		{"no exp", hs, mint(t, jwa.HS256, secret, "", without(c, "exp")), "no expiry"},

		{"HS other secret", hs, mint(t, jwa.HS256, []byte(testSecret+"x"), "", c), "bad signature"},
		{"HS tampered payload", hs, tampered, "bad signature"},
		{"RS other key same kid", js, mint(t, jwa.RS256, k.rsaOther, "rsa-1", c), "bad signature"},
		{"ES signature under RSA kid", js, mint(t, jwa.ES256, k.ec, "rsa-1", c), "key does not match algorithm"},
		{"RS256 under PS256 kid", js, mint(t, jwa.RS256, k.rsa, "rsa-ps", c), "key does not match algorithm"},

		{"HS alg none", hs, unsigned(t, map[string]any{"alg": "none", "typ": "JWT"}, c), "unexpected algorithm"},
		{"JWKS alg none", js, unsigned(t, map[string]any{"alg": "none", "kid": "rsa-1"}, c), "unexpected algorithm"},
		{"JWKS alg None", js, unsigned(t, map[string]any{"alg": "None"}, c), "unexpected algorithm"},
		{"no alg", hs, unsigned(t, map[string]any{"typ": "JWT"}, c), "unexpected algorithm"},
		{"RS256 on secret verifier", hs, mint(t, jwa.RS256, k.rsa, "rsa-1", c), "unexpected algorithm"},
		{"HS384 on secret verifier", hs, mint(t, jwa.HS384, secret, "", c), "unexpected algorithm"},

		{"confusion: HS256 with RSA PEM", js, mint(t, jwa.HS256, pemBytes, "rsa-1", c), "unexpected algorithm"},
		{"confusion: HS256 with RSA PKIX DER", js, mint(t, jwa.HS256, der, "rsa-1", c), "unexpected algorithm"},
		{"confusion: HS256 with RSA PKCS1 DER", js, mint(t, jwa.HS256, pkcs1, "rsa-1", c), "unexpected algorithm"},
		{"confusion: HS256 with RSA JWK JSON", js, mint(t, jwa.HS256, jwkJSON, "rsa-1", c), "unexpected algorithm"},
		{"confusion: HS256 without kid", js, mint(t, jwa.HS256, pemBytes, "", c), "unexpected algorithm"},

		{"missing sub", hs, mint(t, jwa.HS256, secret, "", without(c, "sub")), "no subject"},
		{"empty sub", hs, mint(t, jwa.HS256, secret, "", with(c, "sub", "")), "no subject"},
		{"blank sub", js, mint(t, jwa.RS256, k.rsa, "rsa-1", with(c, "sub", "  ")), "no subject"},
		{"NUL in sub", hs, mint(t, jwa.HS256, secret, "", with(c, "sub", "eve\x00")), "contains NUL"},
		{"sub over 255 bytes", hs, mint(t, jwa.HS256, secret, "", with(c, "sub", strings.Repeat("é", 128))), "longer than 255 bytes"},
		{"invalid UTF-8 bytes in sub", hs, mintRaw(t, secret, `{"sub":"eve\xff","exp":`+strconv.FormatInt(t0.Add(time.Hour).Unix(), 10)+`}`), "malformed token"}, // the JSON decoder refuses it first
		{"lone surrogate in sub", hs, mintRaw(t, secret, `{"sub":"eve\udc00","exp":`+strconv.FormatInt(t0.Add(time.Hour).Unix(), 10)+`}`), "not valid UTF-8"},

		{"empty", hs, "", "missing token"},
		{"garbage", hs, "not a token", "malformed token"},
		{"three garbage parts", hs, "a.b.c", "malformed token"},
		{"two parts", hs, parts[0] + "." + parts[1], "malformed token"},
		{"JWE shape", hs, "a.b.c.d.e", "malformed token"},
		{"JSON serialization", hs, `{"payload":"e30","signatures":[{"protected":"e30.","signature":"x"}]}`, "malformed token"},
		{"payload not JSON", hs, parts[0] + ".bm90IGpzb24." + parts[2], "bad signature"},
		{"oversized", hs, oversized, "token too large"},
		{"unknown kid", js, mint(t, jwa.RS256, k.rsaOther, "nobody", c), "unknown signing key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.v.Verify(bg, tt.token)
			wantUnauthorized(t, err, tt.reason, tt.token)
		})
	}
}

func TestVerifyPayloadNotJSONWithValidSignature(t *testing.T) {
	// A correctly signed payload that is not a claim set is malformed, not
	// a signature failure.
	v := newVerifier(t, auth.Config{JWTSecret: testSecret}, newClock())
	b, err := jws.Sign([]byte("not json"), jws.WithKey(jwa.HS256, []byte(testSecret)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(bg, string(b))
	wantUnauthorized(t, err, "malformed token", string(b))
}

func TestVerifyLeeway(t *testing.T) {
	clock := newClock()
	v := newVerifier(t, auth.Config{JWTSecret: testSecret, Leeway: 2 * time.Second}, clock)
	secret := []byte(testSecret)
	if _, err := v.Verify(bg, mint(t, jwa.HS256, secret, "", with(claims(t0), "exp", t0.Add(-1*time.Second)))); err != nil {
		t.Fatalf("1 s past exp with 2 s leeway: %v", err)
	}
	tok := mint(t, jwa.HS256, secret, "", with(claims(t0), "exp", t0.Add(-3*time.Second)))
	_, err := v.Verify(bg, tok)
	wantUnauthorized(t, err, "token expired", tok)

	// The default leeway is 5 s (docs/API.md).
	d := newVerifier(t, auth.Config{JWTSecret: testSecret}, clock)
	if _, err := d.Verify(bg, mint(t, jwa.HS256, secret, "", with(claims(t0), "exp", t0.Add(-4*time.Second)))); err != nil {
		t.Fatalf("4 s past exp with the default leeway: %v", err)
	}
	tok = mint(t, jwa.HS256, secret, "", with(claims(t0), "exp", t0.Add(-6*time.Second)))
	_, err = d.Verify(bg, tok)
	wantUnauthorized(t, err, "token expired", tok)
}

func TestVerifyNameFallback(t *testing.T) {
	v := newVerifier(t, auth.Config{JWTSecret: testSecret}, newClock())
	c := claims(t0)
	meta := map[string]any{"full_name": "Alice Meta"}

	tests := []struct {
		name   string
		claims map[string]any
		want   string
	}{
		{"name wins", with(c, "name", "Alice", "user_metadata", meta, "email", "a@example.com"), "Alice"},
		{"user_metadata.full_name next", with(c, "user_metadata", meta, "email", "a@example.com"), "Alice Meta"},
		{"email next", with(c, "email", "a@example.com"), "a@example.com"},
		{"sub last", c, "alice"},
		{"blank name skipped", with(c, "name", "  ", "email", "a@example.com"), "a@example.com"},
		{"non-string name skipped", with(c, "name", 42, "email", "a@example.com"), "a@example.com"},
		{"user_metadata not an object", with(c, "user_metadata", "Alice", "email", "a@example.com"), "a@example.com"},
		{"full_name not a string", with(c, "user_metadata", map[string]any{"full_name": true}), "alice"},
		{"user_metadata without full_name", with(c, "user_metadata", map[string]any{"avatar_url": "x"}), "alice"},
		{"name trimmed", with(c, "name", " Alice "), "Alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := v.Verify(bg, mint(t, jwa.HS256, []byte(testSecret), "", tt.claims))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got, want := u, (auth.User{ID: "alice", Name: tt.want}); got != want {
				t.Fatalf("user = %+v, want %+v", got, want)
			}
		})
	}
}

func TestVerifyIgnoresSymmetricKeysInJWKS(t *testing.T) {
	// An oct key published in the JWKS must never become an HMAC secret,
	// even for a token that names it.
	octKey, err := jwk.FromRaw([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	if err := octKey.Set(jwk.KeyIDKey, "oct-1"); err != nil {
		t.Fatal(err)
	}
	k := getKeys(t)
	srv := newJWKSServer(t, octKey, publicJWK(t, &k.rsa.PublicKey, "rsa-1", jwa.RS256))
	v := newVerifier(t, auth.Config{JWKSURL: srv.URL}, newClock())

	tok := mint(t, jwa.HS256, []byte(testSecret), "oct-1", claims(t0))
	_, err = v.Verify(bg, tok)
	wantUnauthorized(t, err, "unexpected algorithm", tok)
	if _, err := v.Verify(bg, mint(t, jwa.RS256, k.rsa, "rsa-1", claims(t0))); err != nil {
		t.Fatalf("RS256 next to an oct key: %v", err)
	}
}
