package chat

import (
	"errors"
	"fmt"
)

// Application error codes. lib/httpapi maps each to an HTTP status in one place;
// anything that is not an *Error is an internal error to the user.
const (
	EINVALID      = "validation_failed"
	EBADREQUEST   = "bad_request"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	ERATELIMITED  = "rate_limited"
	EUNAVAILABLE  = "unavailable"
	EINTERNAL     = "internal"
)

// Error is an error the caller can act on: its code and message are shown to
// the user, Fields names the offending input fields.
type Error struct {
	Code    string
	Message string
	// Fields maps a request field (as spelled in JSON or the query) to what is wrong with it.
	Fields map[string]string
	// RetryAfterMS, for ERATELIMITED and a shed EUNAVAILABLE, tells when the
	// caller may try again.
	RetryAfterMS int64
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an application error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns a validation error naming one field.
func FieldError(field, problem string) *Error {
	return &Error{Code: EINVALID, Message: field + ": " + problem, Fields: map[string]string{field: problem}}
}

// ErrorCode returns the code of an application error in err's chain, or EINTERNAL.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}
