// Package auth verifies the bearer JWTs that callers present and turns them
// into a User. Keys come either from an HS256 shared secret (Supabase legacy)
// or from a JWKS URL (Supabase asymmetric keys, Clerk, Auth0).
package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

const (
	// MaxTokenBytes bounds the token size; anything larger is rejected before
	// any parsing so a huge header cannot cost CPU or memory.
	MaxTokenBytes = 8 << 10

	// MinSecretBytes is the shortest HS256 secret accepted. RFC 7518 §3.2
	// asks for a key at least as long as the hash output (256 bits); Supabase
	// secrets are longer.
	MinSecretBytes = 32

	// DefaultLeeway is the clock skew allowed on exp, nbf and iat when
	// Config.Leeway is zero, and MaxLeeway the most allowed: NTP keeps
	// serverless clocks within a second, and every second more is a second
	// an expired (or revoked and expired) token still works.
	DefaultLeeway = 5 * time.Second
	MaxLeeway     = 5 * time.Second

	// MaxSubjectBytes bounds sub: a Supabase or Auth0 id is under 64 bytes,
	// and a user id must fit channel names and database rows.
	MaxSubjectBytes = 255

	// defaultFetchTimeout bounds a JWKS fetch when Config.HTTPClient is nil;
	// the request context may shorten it further.
	defaultFetchTimeout = 5 * time.Second
)

// ErrUnauthorized is wrapped by every error Verify and BearerToken return
// because of the token itself. The wrapping error's message is a short
// reason ("unauthorized: token expired") that is safe to show to the caller.
var ErrUnauthorized = errors.New("unauthorized")

// ErrKeysUnavailable is wrapped by the error Verify returns when the JWKS
// could not be fetched and no usable cached keys exist. It is a server-side
// problem (503/500), not the caller's fault, so it does not wrap
// ErrUnauthorized; its message carries the cause for the operator's log.
var ErrKeysUnavailable = errors.New("auth: signing keys unavailable")

// User is the authenticated caller.
type User struct {
	ID   string // the token's sub claim
	Name string // display name: name, user_metadata.full_name, email, then sub
}

// Config selects how tokens are verified. Exactly one of JWTSecret and
// JWKSURL must be set.
type Config struct {
	JWTSecret  string        // HS256 shared secret (at least MinSecretBytes); exclusive with JWKSURL
	JWKSURL    string        // JWKS endpoint (RS*/PS*/ES*/EdDSA keys); https, or http on loopback only
	Issuer     string        // checked against iss when non-empty
	Audience   string        // must be one of aud when non-empty
	HTTPClient *http.Client  // for JWKS fetches; nil = a client with a 5 s timeout
	Leeway     time.Duration // clock skew allowed on exp/nbf/iat; 0 = DefaultLeeway (5 s); negative or over MaxLeeway (5 s) is an error
}

// Verifier checks bearer tokens. It is safe for concurrent use and starts no
// goroutines; the JWKS, if any, is fetched lazily by Verify.
type Verifier struct {
	secret   []byte     // HS256 mode when non-nil
	jwks     *jwksCache // JWKS mode when non-nil
	issuer   string
	audience string
	leeway   time.Duration
	now      func() time.Time // replaced by tests
	cache    *tokenCache      // tokens accepted before (cache.go)
}

// asymmetricAlgs are the only algorithms accepted in JWKS mode. HS* is absent
// on purpose: an HMAC "signed" with a public key anyone can download is the
// classic algorithm-confusion forgery.
var asymmetricAlgs = map[jwa.SignatureAlgorithm]bool{
	jwa.RS256: true, jwa.RS384: true, jwa.RS512: true,
	jwa.PS256: true, jwa.PS384: true, jwa.PS512: true,
	jwa.ES256: true, jwa.ES384: true, jwa.ES512: true,
	jwa.EdDSA: true,
}

// NewVerifier validates cfg and returns a Verifier. It does no network I/O,
// so it is cheap on a cold start; errors name the setting, never its value.
func NewVerifier(cfg Config) (*Verifier, error) {
	switch {
	case cfg.JWTSecret != "" && cfg.JWKSURL != "":
		return nil, errors.New("auth: AUTH_JWT_SECRET and AUTH_JWKS_URL are both set; set exactly one")
	case cfg.JWTSecret == "" && cfg.JWKSURL == "":
		return nil, errors.New("auth: neither AUTH_JWT_SECRET nor AUTH_JWKS_URL is set; set exactly one")
	case cfg.Leeway < 0:
		return nil, errors.New("auth: leeway must not be negative")
	case cfg.Leeway > MaxLeeway:
		return nil, fmt.Errorf("auth: leeway must be at most %s", MaxLeeway)
	}
	v := &Verifier{
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
		leeway:   cfg.Leeway,
		now:      time.Now,
		cache:    newTokenCache(defaultCachedTokens),
	}
	if v.leeway == 0 {
		v.leeway = DefaultLeeway
	}
	if cfg.JWTSecret != "" {
		if len(cfg.JWTSecret) < MinSecretBytes {
			return nil, fmt.Errorf("auth: AUTH_JWT_SECRET is too short: need at least %d bytes", MinSecretBytes)
		}
		v.secret = []byte(cfg.JWTSecret)
		return v, nil
	}
	if err := checkJWKSURL(cfg.JWKSURL); err != nil {
		return nil, err
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: defaultFetchTimeout}
	}
	v.jwks = newJWKSCache(cfg.JWKSURL, client, func() time.Time { return v.now() })
	return v, nil
}

// checkJWKSURL insists on https because the keys decide who is who; plain
// http is allowed only to a loopback host for local development and tests.
func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("auth: AUTH_JWKS_URL is not an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
		return errors.New("auth: AUTH_JWKS_URL must use https (http only for a loopback host)")
	default:
		return errors.New("auth: AUTH_JWKS_URL must use https")
	}
}

// unauthorized builds an ErrUnauthorized error with a reason safe to show.
// Library errors are deliberately not wrapped: they may quote token content.
func unauthorized(reason string) error {
	return fmt.Errorf("%w: %s", ErrUnauthorized, reason)
}

// Verify checks token's size, form, algorithm, signature, exp/nbf/iat,
// issuer and audience, and returns the caller. A token it accepted before is
// answered from the cache while it is still valid (cache.go). Token problems wrap
// ErrUnauthorized; a JWKS outage wraps ErrKeysUnavailable; a JWKS fetch cut
// short by ctx wraps ctx.Err(). Only JWKS mode does I/O, and only on a cold
// cache, a stale one or an unknown kid.
func (v *Verifier) Verify(ctx context.Context, token string) (User, error) {
	if token == "" {
		return User{}, unauthorized("missing token")
	}
	if len(token) > MaxTokenBytes {
		return User{}, unauthorized("token too large")
	}
	// Only the compact form is a bearer JWT; refusing the JSON serialization
	// and JWE up front keeps multi-signature and encryption paths unreachable.
	if strings.Count(token, ".") != 2 {
		return User{}, unauthorized("malformed token")
	}
	key := sha256.Sum256([]byte(token))
	if u, ok := v.cache.get(key, v.now()); ok {
		return u, nil
	}
	msg, err := jws.Parse([]byte(token), jws.WithCompact())
	if err != nil || len(msg.Signatures()) != 1 {
		return User{}, unauthorized("malformed token")
	}
	hdr := msg.Signatures()[0].ProtectedHeaders()
	alg := hdr.Algorithm()

	var keys []interface{}
	if v.secret != nil {
		// Pinning HS256 here (and not trusting the header) is what rejects
		// alg "none" and any other algorithm in secret mode.
		if alg != jwa.HS256 {
			return User{}, unauthorized("unexpected algorithm")
		}
		keys = []interface{}{v.secret}
	} else {
		if !asymmetricAlgs[alg] {
			return User{}, unauthorized("unexpected algorithm")
		}
		found, err := v.jwks.keysFor(ctx, hdr.KeyID(), alg)
		if err != nil {
			return User{}, err
		}
		for _, k := range found {
			keys = append(keys, k)
		}
	}

	tok, err := v.parse(token, alg, keys)
	if err != nil {
		return User{}, err
	}
	u, err := userFrom(tok)
	if err != nil {
		return User{}, err
	}
	now := v.now()
	v.cache.put(key, u, now, minTime(tok.Expiration().Add(v.leeway), now.Add(maxCacheLife)))
	return u, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// parse verifies the signature with each candidate key (usually one) and
// validates the registered claims, mapping library errors to short reasons.
func (v *Verifier) parse(token string, alg jwa.SignatureAlgorithm, keys []interface{}) (jwt.Token, error) {
	opts := []jwt.ParseOption{
		jwt.WithValidate(true),
		jwt.WithAcceptableSkew(v.leeway),
		jwt.WithClock(jwt.ClockFunc(v.now)),
	}
	if v.issuer != "" {
		opts = append(opts, jwt.WithIssuer(v.issuer))
	}
	if v.audience != "" {
		opts = append(opts, jwt.WithAudience(v.audience))
	}
	for _, key := range keys {
		tok, err := jwt.Parse([]byte(token), append(opts, jwt.WithKey(alg, key))...)
		if err == nil {
			if tok.Expiration().IsZero() {
				// A token without exp would be valid forever if leaked.
				return nil, unauthorized("token has no expiry")
			}
			return tok, nil
		}
		if jws.IsVerificationError(err) {
			continue // try the next key with the same kid, if any
		}
		return nil, claimsError(err)
	}
	return nil, unauthorized("bad signature")
}

// claimsError maps a post-signature failure to a reason.
func claimsError(err error) error {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired()):
		return unauthorized("token expired")
	case errors.Is(err, jwt.ErrTokenNotYetValid()), errors.Is(err, jwt.ErrInvalidIssuedAt()):
		// An iat in the future means the same to the caller as nbf.
		return unauthorized("token not yet valid")
	case errors.Is(err, jwt.ErrInvalidIssuer()):
		return unauthorized("wrong issuer")
	case errors.Is(err, jwt.ErrInvalidAudience()):
		return unauthorized("wrong audience")
	case jwt.IsValidationError(err):
		return unauthorized("invalid claims")
	default:
		return unauthorized("malformed token")
	}
}

// userFrom reads the id and the display name in the documented order.
func userFrom(tok jwt.Token) (User, error) {
	// sub is the identity as issued, so it is kept byte for byte; an empty
	// or blank one, or one no database row or channel name can hold, is
	// refused here rather than failing later in Postgres.
	sub := tok.Subject()
	switch {
	case strings.TrimSpace(sub) == "":
		return User{}, unauthorized("token has no subject")
	case len(sub) > MaxSubjectBytes:
		return User{}, unauthorized(fmt.Sprintf("token subject longer than %d bytes", MaxSubjectBytes))
	case !utf8.ValidString(sub) || strings.ContainsRune(sub, utf8.RuneError):
		// The JSON decoder turns invalid bytes into U+FFFD, so two distinct
		// invalid subs would otherwise read as the same user.
		return User{}, unauthorized("token subject is not valid UTF-8")
	case strings.ContainsRune(sub, 0):
		return User{}, unauthorized("token subject contains NUL")
	}
	u := User{ID: sub}
	u.Name = firstNonEmpty(
		stringClaim(tok, "name"),
		metadataFullName(tok),
		stringClaim(tok, "email"),
		sub,
	)
	return u, nil
}

func stringClaim(tok jwt.Token, name string) string {
	v, ok := tok.Get(name)
	if !ok {
		return ""
	}
	s, _ := v.(string)
	return s
}

// metadataFullName reads user_metadata.full_name, where Supabase keeps the
// name a user gave at sign-up.
func metadataFullName(tok jwt.Token) string {
	v, ok := tok.Get("user_metadata")
	if !ok {
		return ""
	}
	m, ok := v.(map[string]interface{})
	if !ok {
		return ""
	}
	s, _ := m["full_name"].(string)
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}
