package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/store"
)

// errorBody is the API.md error shape.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string            `json:"code"`
	Message   string            `json:"message"`
	Fields    map[string]string `json:"fields,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
}

// httpError is an error the HTTP layer itself raises (415, 413, 405…).
type httpError struct {
	status int
	detail errorDetail
}

func (e *httpError) Error() string { return e.detail.Code + ": " + e.detail.Message }

func apiError(status int, code, message string) error {
	return &httpError{status: status, detail: errorDetail{Code: code, Message: message}}
}

// statusOf maps an application error code to its HTTP status: the one place
// where that mapping lives.
func statusOf(code string) int {
	switch code {
	case chat.EINVALID, chat.EBADREQUEST:
		return http.StatusBadRequest
	case chat.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case chat.EFORBIDDEN:
		return http.StatusForbidden
	case chat.ENOTFOUND:
		return http.StatusNotFound
	case chat.ECONFLICT:
		return http.StatusConflict
	case chat.ERATELIMITED:
		return http.StatusTooManyRequests
	case chat.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// writeError answers with the error's status and body. Anything that is not an
// application error is logged with its detail and shown as a bare internal
// error (or unavailable, when the database or a deadline failed).
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status, detail := http.StatusInternalServerError, errorDetail{Code: chat.EINTERNAL, Message: "internal error"}
	var (
		herr *httpError
		cerr *chat.Error
	)
	switch {
	case errors.As(err, &herr):
		status, detail = herr.status, herr.detail
	case errors.As(err, &cerr):
		status = statusOf(cerr.Code)
		detail = errorDetail{Code: cerr.Code, Message: cerr.Message, Fields: cerr.Fields}
		if cerr.RetryAfterMS > 0 {
			w.Header().Set("Retry-After", strconv.FormatInt((cerr.RetryAfterMS+999)/1000, 10))
		}
	case store.IsSchemaMissing(err):
		// The one place an unmigrated database becomes an answer.
		status, detail = http.StatusServiceUnavailable, errorDetail{Code: codeSchemaNotMigrated,
			Message: "the database is missing part of chatwire's schema: " + migrateHint}
		log.ErrorContext(r.Context(), "schema not migrated", "request_id", requestID(r.Context()), "err", err)
	case store.IsUnavailable(err), errors.Is(err, context.DeadlineExceeded):
		status, detail = http.StatusServiceUnavailable, errorDetail{Code: chat.EUNAVAILABLE, Message: "temporarily unavailable, try again"}
		log.WarnContext(r.Context(), "unavailable", "request_id", requestID(r.Context()), "err", err)
	default:
		log.ErrorContext(r.Context(), "internal error", "request_id", requestID(r.Context()), "err", err)
	}
	detail.RequestID = requestID(r.Context())
	encode(w, status, errorBody{Error: detail})
}
