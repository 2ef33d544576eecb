package pusherlocal

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	// maxTimestampSkew is how far auth_timestamp may be from the server's
	// clock, as Pusher allows.
	maxTimestampSkew = 600 * time.Second
	// maxRequestBody caps API request bodies: ten batch events of 10 KB
	// each, with room for their JSON.
	maxRequestBody = 256 * 1024
)

// apiHandler is an HTTP API endpoint whose request has been authenticated;
// body is the request body already read.
type apiHandler func(w http.ResponseWriter, r *http.Request, body []byte)

// signed wraps an HTTP API endpoint with Pusher's request authentication.
func (s *Server) signed(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("app") != s.cfg.AppID {
			apiError(w, http.StatusNotFound, fmt.Sprintf("Unknown app ID %s", r.PathValue("app")))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				apiError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body exceeds %d bytes", maxRequestBody))
				return
			}
			apiError(w, http.StatusBadRequest, "Could not read request body")
			return
		}
		if err := s.verifyRequest(r, body, time.Now()); err != nil {
			apiError(w, http.StatusUnauthorized, err.Error())
			return
		}
		h(w, r, body)
	})
}

// verifyRequest checks a request's signature the way Pusher does: the key,
// a timestamp within 600 s, auth_version 1.0, the MD5 of a non-empty body,
// and auth_signature = hex HMAC-SHA256(secret, "METHOD\nPATH\nquery") where
// query is every other parameter, keys lower-cased and sorted, joined as
// key=value with & and not URL-encoded.
func (s *Server) verifyRequest(r *http.Request, body []byte, now time.Time) error {
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return fmt.Errorf("Invalid query string: %w", err)
	}
	for _, required := range []string{"auth_key", "auth_timestamp", "auth_version", "auth_signature"} {
		if query.Get(required) == "" {
			return fmt.Errorf("Missing %s", required)
		}
	}
	if query.Get("auth_key") != s.cfg.Key {
		return errors.New("Invalid key")
	}
	if v := query.Get("auth_version"); v != "1.0" {
		return fmt.Errorf("Unsupported auth_version %s", v)
	}
	timestamp, err := strconv.ParseInt(query.Get("auth_timestamp"), 10, 64)
	if err != nil {
		return errors.New("Invalid auth_timestamp")
	}
	if skew := now.Sub(time.Unix(timestamp, 0)); skew > maxTimestampSkew || skew < -maxTimestampSkew {
		return fmt.Errorf("Timestamp expired: Given timestamp (%d) not within %d s of server time (%d)",
			timestamp, int(maxTimestampSkew.Seconds()), now.Unix())
	}
	if len(body) > 0 {
		if got := query.Get("body_md5"); got == "" {
			return errors.New("Missing body_md5 for a request with a body")
		} else if got != md5Hex(body) {
			return errors.New("Invalid body_md5: it does not match the request body")
		}
	}
	toSign := r.Method + "\n" + r.URL.Path + "\n" + canonicalQuery(query)
	if !equalHexMAC(query.Get("auth_signature"), hmacHex(s.cfg.Secret, toSign)) {
		return fmt.Errorf("Invalid signature: you should have sent HmacSHA256Hex(%q, your_secret_key)", toSign)
	}
	return nil
}

// canonicalQuery is the query part of the string Pusher signs.
func canonicalQuery(query url.Values) string {
	lowered := make(map[string][]string, len(query))
	for k, vs := range query {
		if strings.EqualFold(k, "auth_signature") {
			continue
		}
		lk := strings.ToLower(k)
		lowered[lk] = append(lowered[lk], vs...)
	}
	keys := make([]string, 0, len(lowered))
	for k := range lowered {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range lowered[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(k + "=" + v)
		}
	}
	return b.String()
}

// apiError answers like Pusher's HTTP API: a status and a plain-text message.
func apiError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, message+"\n")
}
