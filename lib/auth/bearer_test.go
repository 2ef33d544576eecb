package auth_test

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/chatwire/chatwire/lib/auth"
)

func TestBearerToken(t *testing.T) {
	tests := []struct {
		name    string
		headers []string // Authorization values; nil = none
		want    string   // empty = error
	}{
		{"bearer", []string{"Bearer abc.def.ghi"}, "abc.def.ghi"},
		{"lower-case scheme", []string{"bearer abc"}, "abc"},
		{"upper-case scheme", []string{"BEARER abc"}, "abc"},
		{"extra spaces", []string{"Bearer   abc  "}, "abc"},
		{"missing", nil, ""},
		{"empty", []string{""}, ""},
		{"scheme only", []string{"Bearer"}, ""},
		{"scheme and space", []string{"Bearer "}, ""},
		{"basic", []string{"Basic YWxpY2U6cHc="}, ""},
		{"no scheme", []string{"abc.def.ghi"}, ""},
		{"two tokens", []string{"Bearer abc def"}, ""},
		{"tab inside", []string{"Bearer abc\tdef"}, ""},
		{"two headers", []string{"Bearer abc", "Bearer def"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api/messages", nil)
			for _, h := range tt.headers {
				r.Header.Add("Authorization", h)
			}
			got, err := auth.BearerToken(r)
			if tt.want == "" {
				if !errors.Is(err, auth.ErrUnauthorized) {
					t.Fatalf("BearerToken = %q, %v; want ErrUnauthorized", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("BearerToken: %v", err)
			}
			if got != tt.want {
				t.Fatalf("BearerToken = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUserContext(t *testing.T) {
	if _, ok := auth.UserFrom(bg); ok {
		t.Fatal("UserFrom(empty context) ok = true, want false")
	}
	want := auth.User{ID: "alice", Name: "Alice"}
	got, ok := auth.UserFrom(auth.WithUser(bg, want))
	if !ok || got != want {
		t.Fatalf("UserFrom = %+v, %v; want %+v, true", got, ok, want)
	}
}
