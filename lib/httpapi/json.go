package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

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
//
// It decodes strictly, with encoding/json/v2's semantics (the module
// go-json-experiment/json, which the standard library's json/v2 grew from):
// a duplicate key, invalid UTF-8 anywhere, or trailing data is a 400, and keys
// match the struct's names exactly, so {"to":"carol","to":"bob","TO":"dave"}
// is refused rather than sent to whichever key wins. Unknown keys are ignored,
// as before.
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
	if err := jsonv2.Unmarshal(body, &v); err != nil {
		return v, jsonError(err)
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
		syntax   *jsontext.SyntacticError
		semantic *jsonv2.SemanticError
	)
	switch {
	case errors.As(err, &syntax):
		field := jsonField(syntax.JSONPointer)
		switch {
		case errors.Is(syntax.Err, jsontext.ErrDuplicateName):
			return chat.FieldError(field, "given more than once")
		case syntax.Err != nil && (strings.Contains(syntax.Err.Error(), "invalid UTF-8") ||
			strings.Contains(syntax.Err.Error(), "invalid surrogate")):
			// jsontext exports no sentinel for these; a lone surrogate escape
			// would decode to invalid UTF-8 too.
			if field == "" {
				return apiError(http.StatusBadRequest, chat.EBADREQUEST, fmt.Sprintf("invalid UTF-8 at byte %d", syntax.ByteOffset))
			}
			return chat.FieldError(field, "must be valid UTF-8")
		case errors.Is(syntax.Err, io.ErrUnexpectedEOF):
			return apiError(http.StatusBadRequest, chat.EBADREQUEST, "truncated JSON")
		}
		return apiError(http.StatusBadRequest, chat.EBADREQUEST, fmt.Sprintf("malformed JSON at byte %d", syntax.ByteOffset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apiError(http.StatusBadRequest, chat.EBADREQUEST, "truncated JSON")
	case errors.As(err, &semantic) && jsonField(semantic.JSONPointer) != "" && semantic.GoType != nil:
		return chat.FieldError(jsonField(semantic.JSONPointer), "must be "+jsonType(semantic.GoType))
	case errors.As(err, &semantic):
		return apiError(http.StatusBadRequest, chat.EBADREQUEST, "the body must be a JSON object")
	}
	return apiError(http.StatusBadRequest, chat.EBADREQUEST, "malformed JSON")
}

// jsonField names the field at a JSON pointer as errors do: object keys
// joined by dots, array indexes left out ("/attachment/url" is
// "attachment.url", "/message_ids/3" is "message_ids").
func jsonField(p jsontext.Pointer) string {
	var keys []string
	for token := range p.Tokens() {
		if _, err := strconv.Atoi(token); err == nil {
			continue
		}
		keys = append(keys, token)
	}
	return strings.Join(keys, ".")
}

func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
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
