package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// SignOption adjusts a token minted by SignHS256.
type SignOption func(*signOptions)

type signOptions struct {
	issuer   string
	audience string
	issuedAt time.Time
}

// WithIssuer sets the token's iss claim, to match Config.Issuer.
func WithIssuer(iss string) SignOption {
	return func(o *signOptions) { o.issuer = iss }
}

// WithAudience sets the token's aud claim, to match Config.Audience.
func WithAudience(aud string) SignOption {
	return func(o *signOptions) { o.audience = aud }
}

// WithIssuedAt backdates (or postdates) the token: iat and nbf become t and
// exp t+ttl. Tests use it to mint expired or not-yet-valid tokens.
func WithIssuedAt(t time.Time) SignOption {
	return func(o *signOptions) { o.issuedAt = t }
}

// SignHS256 mints a development token (used by `chatwire token`,
// `chatwire dev` and tests) with sub = u.ID, name = u.Name (when set), iat,
// nbf and exp = iat+ttl. The secret must be at least MinSecretBytes long,
// as NewVerifier requires.
func SignHS256(secret string, u User, ttl time.Duration, opts ...SignOption) (string, error) {
	if len(secret) < MinSecretBytes {
		return "", fmt.Errorf("auth: signing secret is too short: need at least %d bytes", MinSecretBytes)
	}
	if u.ID == "" {
		return "", errors.New("auth: user id is empty")
	}
	if ttl <= 0 {
		return "", errors.New("auth: ttl must be positive")
	}
	o := signOptions{issuedAt: time.Now()}
	for _, opt := range opts {
		opt(&o)
	}
	b := jwt.NewBuilder().
		Subject(u.ID).
		IssuedAt(o.issuedAt).
		NotBefore(o.issuedAt).
		Expiration(o.issuedAt.Add(ttl))
	if u.Name != "" {
		b = b.Claim("name", u.Name)
	}
	if o.issuer != "" {
		b = b.Issuer(o.issuer)
	}
	if o.audience != "" {
		b = b.Audience([]string{o.audience})
	}
	tok, err := b.Build()
	if err != nil {
		return "", fmt.Errorf("auth: build token: %w", err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.HS256, []byte(secret)))
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return string(signed), nil
}
