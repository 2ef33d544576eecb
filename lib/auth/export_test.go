package auth

import "time"

// SetClock replaces the verifier's clock (token validation and JWKS cache
// timing) so tests can step past refresh and rate-limit intervals.
func SetClock(v *Verifier, now func() time.Time) { v.now = now }

// CachedTokens counts the tokens the verifier remembers.
func CachedTokens(v *Verifier) int { return v.cache.len() }

// SetCacheLimit bounds the verifier's token cache.
func SetCacheLimit(v *Verifier, n int) { v.cache.max = n }

// CopyCache makes dst remember what src does, as if dst had accepted those
// tokens: a stand-in for a key withdrawn after the tokens were cached.
func CopyCache(dst, src *Verifier) { dst.cache = src.cache }
