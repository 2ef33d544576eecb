package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/chatwire/chatwire/lib/auth"
	"github.com/chatwire/chatwire/lib/chat"
)

// Handler returns the route's handler with the middleware every route shares:
// request id, access log, panic recovery, CORS, method check, deadline and,
// unless the route is public, the caller's JWT.
func (rt *Route) Handler(d *Deps) http.Handler {
	handlers := make(map[string]http.Handler, len(rt.Methods))
	for method, make := range rt.Methods {
		h := make(d)
		if !rt.Public {
			h = requireUser(d, h)
		}
		handlers[method] = h
	}
	allow := strings.Join(rt.AllowedMethods(), ", ")
	timeout := rt.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	dispatch := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, ok := handlers[r.Method]
		if !ok {
			w.Header().Set("Allow", allow)
			writeError(w, r, d.Log, apiError(http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed here; use "+allow))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
	h := withRequestID(withAccessLog(d.Log, withRecover(d.Log, withCORS(d.Config.CORSAllowedOrigins, allow, dispatch))))
	if d.Requests != nil {
		h = withObserver(d.Requests, rt, h)
	}
	return h
}

// withObserver reports each request's route, method, status and duration. A
// method the route does not serve is reported as "other": labels must not
// take whatever a client sends.
func withObserver(obs RequestObserver, rt *Route, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := r.Method
		if _, ok := rt.Methods[method]; !ok && method != http.MethodOptions {
			method = "other"
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		obs.ObserveRequest(rt.Path, method, status, time.Since(start))
	})
}

type ctxKey int

const requestIDKey ctxKey = iota

// withRequestID keeps a well-formed inbound X-Request-Id (so a trace spans the
// frontend and chatwire) or makes one, and echoes it.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !isRequestID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

func isRequestID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// statusRecorder remembers the status a handler wrote, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// withAccessLog writes one JSON line per request. It logs the path, never the
// headers or the query: those are where tokens and secrets travel.
func withAccessLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		caller := &callerSlot{}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), callerSlotKey{}, caller)))
		attrs := []slog.Attr{
			slog.String("request_id", requestID(r.Context())),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		}
		if caller.userID != "" {
			attrs = append(attrs, slog.String("user_id", caller.userID))
		}
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(r.Context(), level, "request", attrs...)
	})
}

// callerSlot lets requireUser tell the access log, further out, who called.
type callerSlot struct{ userID string }
type callerSlotKey struct{}

func withRecover(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.ErrorContext(r.Context(), "panic", "request_id", requestID(r.Context()), "panic", v)
				writeError(w, r, log, apiError(http.StatusInternalServerError, "internal", "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// withCORS answers preflights and sets CORS headers for allowed origins only.
func withCORS(origins []string, allow string, next http.Handler) http.Handler {
	anyOrigin := slices.Contains(origins, "*")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		allowed := origin != "" && (anyOrigin || slices.Contains(origins, origin))
		if allowed {
			h := w.Header()
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", "X-Request-Id, Retry-After")
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if allowed {
				h := w.Header()
				h.Set("Access-Control-Allow-Methods", allow+", OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id")
				h.Set("Access-Control-Max-Age", "600")
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireUser verifies the bearer JWT and puts the user in the context.
func requireUser(d *Deps, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, err := auth.BearerToken(r)
		if err != nil {
			writeError(w, r, d.Log, apiError(http.StatusUnauthorized, "unauthorized", "a bearer token is required"))
			return
		}
		user, err := d.Verifier.Verify(r.Context(), token)
		switch {
		case errors.Is(err, auth.ErrUnauthorized):
			writeError(w, r, d.Log, apiError(http.StatusUnauthorized, "unauthorized", unauthorizedReason(err)))
			return
		case err != nil:
			// The JWKS could not be fetched: our outage, not the caller's fault.
			d.Log.ErrorContext(r.Context(), "verify token", "request_id", requestID(r.Context()), "err", err)
			writeError(w, r, d.Log, chat.Errorf(chat.EUNAVAILABLE, "cannot verify tokens right now, try again"))
			return
		}
		if slot, ok := r.Context().Value(callerSlotKey{}).(*callerSlot); ok {
			slot.userID = user.ID
		}
		next.ServeHTTP(w, r.WithContext(auth.WithUser(r.Context(), user)))
	})
}

// unauthorizedReason is the verifier's short reason, which never contains the token.
func unauthorizedReason(err error) string {
	return strings.TrimPrefix(err.Error(), "unauthorized: ")
}

// caller is the signed-in user of a request that passed requireUser.
func caller(r *http.Request) chat.User {
	u, _ := auth.UserFrom(r.Context())
	return chat.User{ID: u.ID, Name: u.Name}
}
