package auth

import "time"

// SetClock replaces the verifier's clock (token validation and JWKS cache
// timing) so tests can step past refresh and rate-limit intervals.
func SetClock(v *Verifier, now func() time.Time) { v.now = now }
