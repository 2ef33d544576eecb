package auth

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

const (
	// jwksRefreshInterval is how old cached keys may get before the next
	// Verify refetches them, so a key the issuer revoked stops working.
	jwksRefreshInterval = 5 * time.Minute

	// jwksMinFetchInterval spaces any two fetches, which rate-limits the
	// refetch that an unknown kid triggers (a flood of random kids costs at
	// most one request per interval) and retries while the endpoint is down.
	jwksMinFetchInterval = 10 * time.Second

	// maxJWKSBytes bounds the response body; real key sets are a few KB.
	maxJWKSBytes = 1 << 20

	// minRSABits refuses RSA keys too short to be trusted.
	minRSABits = 2048
)

// jwksCache holds the issuer's public signing keys. It is refreshed inline by
// the request that needs it instead of by a background goroutine, because a
// serverless instance is frozen between requests and must leave nothing
// running.
type jwksCache struct {
	url    string
	client *http.Client
	now    func() time.Time

	// lock is a one-slot semaphore rather than a sync.Mutex so that a request
	// waiting behind a slow fetch can give up when its context ends.
	lock      chan struct{}
	keys      []jwk.Key // usable public keys from the last good fetch
	fetched   time.Time // last successful fetch; zero = never
	attempted time.Time // last fetch attempt, good or bad; zero = never
}

func newJWKSCache(url string, client *http.Client, now func() time.Time) *jwksCache {
	return &jwksCache{url: url, client: client, now: now, lock: make(chan struct{}, 1)}
}

// keysFor returns the cached keys that may verify a token with this kid and
// alg, fetching the JWKS when it is missing or stale, and once more when the
// kid is unknown (the issuer may have rotated in a new key).
func (c *jwksCache) keysFor(ctx context.Context, kid string, alg jwa.SignatureAlgorithm) ([]jwk.Key, error) {
	select {
	case c.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.lock }()

	now := c.now()
	fetchedNow := false
	if c.fetched.IsZero() || now.Sub(c.fetched) >= jwksRefreshInterval {
		if c.mayFetch(now) {
			fetchedNow = true
			err := c.refresh(ctx, now)
			// A failed periodic refresh keeps the previous keys: a short
			// outage at the issuer should not log every user out.
			if err != nil && c.fetched.IsZero() {
				return nil, err
			}
		} else if c.fetched.IsZero() {
			return nil, fmt.Errorf("%w: last fetch failed; next attempt within %s", ErrKeysUnavailable, jwksMinFetchInterval)
		}
	}

	found, kidKnown := c.match(kid, alg)
	if len(found) == 0 && !kidKnown && !fetchedNow && c.mayFetch(now) {
		if err := c.refresh(ctx, now); err != nil {
			return nil, err
		}
		found, kidKnown = c.match(kid, alg)
	}
	switch {
	case len(found) > 0:
		return found, nil
	case kidKnown:
		return nil, unauthorized("key does not match algorithm")
	default:
		return nil, unauthorized("unknown signing key")
	}
}

func (c *jwksCache) mayFetch(now time.Time) bool {
	return c.attempted.IsZero() || now.Sub(c.attempted) >= jwksMinFetchInterval
}

// match returns the keys fit for alg with this kid (any kid when the token
// names none), and whether some key carries the kid at all.
func (c *jwksCache) match(kid string, alg jwa.SignatureAlgorithm) (found []jwk.Key, kidKnown bool) {
	for _, k := range c.keys {
		if kid != "" && k.KeyID() != kid {
			continue
		}
		kidKnown = kid != ""
		if keyFits(k, alg) {
			found = append(found, k)
		}
	}
	return found, kidKnown
}

// refresh fetches the JWKS and replaces the cached keys on success. Errors
// wrap ErrKeysUnavailable. The caller holds c.lock.
func (c *jwksCache) refresh(ctx context.Context, now time.Time) error {
	prev := c.attempted
	c.attempted = now
	keys, err := c.fetch(ctx)
	if err != nil {
		// A caller that went away before the first fetch finished says
		// nothing about the endpoint; without any keys, the next request
		// should not have to wait out the retry interval.
		if ctx.Err() != nil && c.fetched.IsZero() {
			c.attempted = prev
		}
		return fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	c.keys, c.fetched = keys, now
	return nil
}

func (c *jwksCache) fetch(ctx context.Context) ([]jwk.Key, error) {
	// The client's own timeout may be unset (a caller's client); this keeps
	// every fetch bounded even then.
	ctx, cancel := context.WithTimeout(ctx, defaultFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, fmt.Errorf("build JWKS request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read JWKS: %w", err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("read JWKS: larger than %d bytes", maxJWKSBytes)
	}
	set, err := jwk.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("parse JWKS: %w", err)
	}
	keys := usableKeys(set)
	if len(keys) == 0 {
		return nil, errors.New("JWKS has no usable signing keys")
	}
	return keys, nil
}

// usableKeys keeps the public halves of asymmetric signing keys. Symmetric
// (oct) keys are dropped so that nothing from the JWKS can ever act as an
// HMAC secret.
func usableKeys(set jwk.Set) []jwk.Key {
	var keys []jwk.Key
	for i := 0; i < set.Len(); i++ {
		k, _ := set.Key(i)
		if use := k.KeyUsage(); use != "" && use != "sig" {
			continue
		}
		switch k.KeyType() {
		case jwa.RSA, jwa.EC, jwa.OKP:
		default:
			continue
		}
		pub, err := k.PublicKey()
		if err != nil {
			continue
		}
		if pub.KeyType() == jwa.RSA {
			var raw rsa.PublicKey
			if err := pub.Raw(&raw); err != nil || raw.N == nil || raw.N.BitLen() < minRSABits {
				continue
			}
		}
		keys = append(keys, pub)
	}
	return keys
}

// curveKey is implemented by EC and OKP keys.
type curveKey interface {
	Crv() jwa.EllipticCurveAlgorithm
}

// keyFits reports whether key may verify alg: its own alg, when it names
// one, must agree, and its type and curve must be the algorithm's.
func keyFits(key jwk.Key, alg jwa.SignatureAlgorithm) bool {
	if ka := key.Algorithm().String(); ka != "" && ka != alg.String() {
		return false
	}
	var crv jwa.EllipticCurveAlgorithm
	if c, ok := key.(curveKey); ok {
		crv = c.Crv()
	}
	switch key.KeyType() {
	case jwa.RSA:
		s := alg.String()
		return strings.HasPrefix(s, "RS") || strings.HasPrefix(s, "PS")
	case jwa.EC:
		switch alg {
		case jwa.ES256:
			return crv == jwa.P256
		case jwa.ES384:
			return crv == jwa.P384
		case jwa.ES512:
			return crv == jwa.P521
		}
	case jwa.OKP:
		return alg == jwa.EdDSA && crv == jwa.Ed25519
	}
	return false
}
