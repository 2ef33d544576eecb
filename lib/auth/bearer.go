package auth

import (
	"net/http"
	"strings"
)

// BearerToken returns the token from "Authorization: Bearer <token>"; the
// scheme is matched case-insensitively (RFC 7235). A missing, repeated or
// malformed header gives an error wrapping ErrUnauthorized.
func BearerToken(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return "", unauthorized("missing bearer token")
	case 1:
	default:
		// Two headers could be read differently by a proxy and by us.
		return "", unauthorized("more than one Authorization header")
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", unauthorized("missing bearer token")
	}
	token = strings.TrimLeft(token, " ")
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", unauthorized("malformed bearer token")
	}
	return token, nil
}
