package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/chatwire/chatwire/lib/chat"
)

// MaxJSONBody bounds request bodies: a 4,000-character message or 500 message
// ids fit many times over, and Vercel's own limit is 4.5 MB.
const MaxJSONBody = 256 << 10

// encode writes v as JSON with the status.
func encode(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body into T: 415 for another content type, 413 past the
// size limit, 400 naming the field for a value of the wrong type.
func decode[T any](w http.ResponseWriter, r *http.Request) (T, error) {
	var v T
	if err := requireContentType(r, "application/json"); err != nil {
		return v, err
	}
	body, err := readBody(w, r, MaxJSONBody)
	if err != nil {
		return v, err
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return v, apiError(http.StatusBadRequest, chat.EBADREQUEST, "a JSON body is required")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(&v); err != nil {
		return v, jsonError(err)
	}
	if dec.More() {
		return v, apiError(http.StatusBadRequest, chat.EBADREQUEST, "unexpected data after the JSON value")
	}
	return v, nil
}

func requireContentType(r *http.Request, want string) error {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != want {
		return apiError(http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type must be "+want)
	}
	return nil
}

// readBody reads at most limit bytes; a larger body is a 413.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, apiError(http.StatusRequestEntityTooLarge, "payload_too_large", fmt.Sprintf("body larger than %d bytes", limit))
	case err != nil:
		return nil, apiError(http.StatusBadRequest, chat.EBADREQUEST, "could not read the body")
	}
	return body, nil
}

func jsonError(err error) error {
	var (
		syntax    *json.SyntaxError
		typeError *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return apiError(http.StatusBadRequest, chat.EBADREQUEST, fmt.Sprintf("malformed JSON at byte %d", syntax.Offset))
	case errors.As(err, &typeError) && typeError.Field != "":
		return chat.FieldError(typeError.Field, "must be "+jsonType(typeError.Type.Kind().String()))
	case errors.As(err, &typeError):
		return apiError(http.StatusBadRequest, chat.EBADREQUEST, "the body must be a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apiError(http.StatusBadRequest, chat.EBADREQUEST, "truncated JSON")
	}
	return apiError(http.StatusBadRequest, chat.EBADREQUEST, "malformed JSON")
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool", "ptr":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "a number"
}

// queryInt reads an optional integer query parameter.
func queryInt(r *http.Request, name string) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, chat.FieldError(name, "must be an integer")
	}
	if n <= 0 {
		return 0, chat.FieldError(name, "must be positive")
	}
	return n, nil
}
