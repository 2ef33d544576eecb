package storage_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/storage"
	"github.com/chatwire/chatwire/lib/storagetest"
)

func newS3(t *testing.T, cfg storage.Config) *storage.S3 {
	t.Helper()
	s, err := storage.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// put sends the presigned request as a browser would: its headers, the body.
func put(t *testing.T, req chat.PresignedRequest, body []byte) int {
	t.Helper()
	r, err := http.NewRequest(req.Method, req.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range req.Headers {
		r.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func get(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func TestPresignedPutAndGetAgainstARealServer(t *testing.T) {
	cfg := storagetest.Start(t)
	s := newS3(t, cfg)
	ctx := t.Context()
	body := []byte("hello, file")
	req, err := s.PresignPut(ctx, "attachments/u1/a1", "text/plain", int64(len(body)), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := req.Method, http.MethodPut; got != want {
		t.Fatalf("method = %s, want %s", got, want)
	}
	if got, want := req.Headers["Content-Type"], "text/plain"; got != want {
		t.Fatalf("Content-Type header = %q, want %q", got, want)
	}
	if _, ok := req.Headers["Host"]; ok {
		t.Fatal("the client is told to set Host, which a browser refuses")
	}
	if got := put(t, req, body); got != http.StatusOK {
		t.Fatalf("PUT = %d, want 200", got)
	}
	size, found, err := s.Stat(ctx, "attachments/u1/a1")
	if err != nil || !found || size != int64(len(body)) {
		t.Fatalf("Stat = %d, %v, %v; want %d, true, nil", size, found, err, len(body))
	}
	url, err := s.PresignGet(ctx, "attachments/u1/a1", chat.Download{Name: "notes é.txt", ContentType: "text/plain", Inline: true}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	status, header, got := get(t, url)
	if status != http.StatusOK || !bytes.Equal(got, body) {
		t.Fatalf("GET = %d %q, want 200 %q", status, got, body)
	}
	if cd := header.Get("Content-Disposition"); !strings.HasPrefix(cd, "inline") || !strings.Contains(cd, "notes") {
		t.Fatalf("Content-Disposition = %q, want inline with the file name", cd)
	}
	if err := s.Delete(ctx, "attachments/u1/a1"); err != nil {
		t.Fatal(err)
	}
	if _, found, err := s.Stat(ctx, "attachments/u1/a1"); err != nil || found {
		t.Fatalf("after Delete: found %v, err %v", found, err)
	}
	if err := s.Delete(ctx, "attachments/u1/a1"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
}

func TestPresignedPutIsBoundToSizeAndType(t *testing.T) {
	cfg := storagetest.Start(t)
	s := newS3(t, cfg)
	req, err := s.PresignPut(t.Context(), "k/size", "image/png", 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := put(t, req, []byte("eleven byte")); got != http.StatusForbidden {
		t.Errorf("PUT of 11 bytes to a 10-byte upload = %d, want 403", got)
	}
	other := req
	other.Headers = map[string]string{"Content-Type": "text/html"}
	if got := put(t, other, []byte("0123456789")); got != http.StatusForbidden {
		t.Errorf("PUT with another content type = %d, want 403", got)
	}
	if _, found, _ := s.Stat(t.Context(), "k/size"); found {
		t.Fatal("a refused PUT stored something")
	}
	if got := put(t, req, []byte("0123456789")); got != http.StatusOK {
		t.Fatalf("PUT of the declared size and type = %d, want 200", got)
	}
}

func TestTamperedAndExpiredURLsAreRefused(t *testing.T) {
	cfg := storagetest.Start(t)
	// The signing clock is two hours behind: a one-hour URL signed by it has
	// expired by the server's clock, whatever the machine's speed.
	past := cfg
	past.Now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
	s, old := newS3(t, cfg), newS3(t, past)
	ctx := t.Context()
	req, err := s.PresignPut(ctx, "k/file", "text/plain", 4, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := put(t, req, []byte("data")); got != http.StatusOK {
		t.Fatalf("PUT = %d", got)
	}

	expired, err := old.PresignGet(ctx, "k/file", chat.Download{Name: "file"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if status, _, _ := get(t, expired); status != http.StatusForbidden {
		t.Errorf("GET with an expired URL = %d, want 403", status)
	}
	expiredPut, err := old.PresignPut(ctx, "k/other", "text/plain", 4, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got := put(t, expiredPut, []byte("data")); got != http.StatusForbidden {
		t.Errorf("PUT with an expired URL = %d, want 403", got)
	}

	good, err := s.PresignGet(ctx, "k/file", chat.Download{Name: "file"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for name, tampered := range map[string]string{
		"another key":         strings.Replace(good, "/k/file?", "/k/other?", 1),
		"a longer lifetime":   strings.Replace(good, "X-Amz-Expires=60", "X-Amz-Expires=604800", 1),
		"a changed signature": good[:len(good)-1] + flip(good[len(good)-1]),
	} {
		if tampered == good {
			t.Fatalf("%s: the URL did not change: %s", name, good)
		}
		if status, _, _ := get(t, tampered); status != http.StatusForbidden {
			t.Errorf("GET with %s = %d, want 403", name, status)
		}
	}
	if status, _, _ := get(t, good); status != http.StatusOK {
		t.Fatalf("GET with the untouched URL = %d, want 200", status)
	}
}

func flip(c byte) string {
	if c == '0' {
		return "1"
	}
	return "0"
}
