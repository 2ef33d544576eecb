package auth

import (
	"crypto/sha256"
	"sync"
	"time"
)

const (
	// defaultCachedTokens bounds a verifier's token cache: about 100 bytes
	// each, so at most a few MB.
	defaultCachedTokens = 10_000
	// maxCacheLife bounds how long an accepted token is taken on trust without
	// checking its signature again, whatever its exp: a key withdrawn from the
	// JWKS stops being honoured within this.
	maxCacheLife = 5 * time.Minute
)

// tokenCache remembers the tokens a verifier accepted, by their SHA-256,
// until they expire (exp plus the leeway) or maxCacheLife passes. Checking a
// signature and parsing the claims cost 7-10 % of a send's CPU, and a client
// sends every request with the same token for as long as it lives. Only
// accepted tokens are kept, so garbage cannot fill it; when it is full the
// expired entries go and, if that is not enough, an arbitrary one.
type tokenCache struct {
	mu      sync.Mutex
	max     int
	entries map[[sha256.Size]byte]cachedToken
}

type cachedToken struct {
	user  User
	until time.Time
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, entries: make(map[[sha256.Size]byte]cachedToken)}
}

// get returns the user of a token accepted before and still valid at now.
func (c *tokenCache) get(key [sha256.Size]byte, now time.Time) (User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return User{}, false
	}
	if !now.Before(e.until) {
		delete(c.entries, key)
		return User{}, false
	}
	return e.user, true
}

// put remembers an accepted token until until.
func (c *tokenCache) put(key [sha256.Size]byte, u User, now, until time.Time) {
	if !now.Before(until) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for k, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, k)
			}
		}
		for k := range c.entries {
			if len(c.entries) < c.max {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[key] = cachedToken{user: u, until: until}
}

func (c *tokenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
