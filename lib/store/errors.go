package store

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/chatwire/chatwire/lib/chat"
)

// IsUnavailable reports whether err means the database could not be reached or
// stopped answering (connection refused or lost, server shutting down, too
// many connections, a query deadline hit), as opposed to a bad request or a
// bug: the HTTP layer answers 503 for these so clients retry.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			pgErr.Code == "57P01", // admin_shutdown
			pgErr.Code == "57P02", // crash_shutdown
			pgErr.Code == "57P03", // cannot_connect_now (starting up, recovering)
			pgErr.Code == "53300": // too_many_connections
			return true
		}
		return false
	}
	// Our own per-query deadline: Postgres did not answer in time. A caller's
	// cancellation is not the database's fault.
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	// The server went away in the middle of a conversation.
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	return pgconn.SafeToRetry(err)
}

// IsSchemaMissing reports whether err is Postgres saying that a table,
// column, function or type the statement uses does not exist: in a build whose
// queries pass their tests, that means the database was never migrated, or is
// behind this build. The HTTP layer answers 503 schema_not_migrated for it.
func IsSchemaMissing(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "42P01", // undefined_table
		"42703", // undefined_column
		"42883", // undefined_function
		"42704": // undefined_object (a type)
		return true
	}
	return false
}

func isUndefinedTable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42P01"
}

// checkText rejects, naming the field, strings Postgres cannot store as text:
// a NUL byte or invalid UTF-8 would otherwise fail the statement and reach the
// user as an internal error. Arguments are field, value pairs.
func checkText(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		field, v := pairs[i], pairs[i+1]
		if strings.IndexByte(v, 0) >= 0 {
			return chat.FieldError(field, "must not contain NUL characters")
		}
		if !utf8.ValidString(v) {
			return chat.FieldError(field, "must be valid UTF-8")
		}
	}
	return nil
}

// inputError turns Postgres's complaints about a value (SQLSTATE class 22,
// data exception) into a validation error; anything else is returned as is.
func inputError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22") {
		return &chat.Error{Code: chat.EINVALID, Message: "invalid input: " + pgErr.Message}
	}
	return err
}
