package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/config"
)

var r2 = map[string]string{
	"STORAGE_ENDPOINT":          "https://0123abcd.r2.cloudflarestorage.com",
	"STORAGE_REGION":            "auto",
	"STORAGE_BUCKET":            "chat-files",
	"STORAGE_ACCESS_KEY_ID":     "r2-key-id",
	"STORAGE_SECRET_ACCESS_KEY": "r2-secret-value",
}

func with(base map[string]string, extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func TestFilesAreOffByDefaultWithDefaultLimits(t *testing.T) {
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Storage.Enabled() {
		t.Fatal("storage enabled with no STORAGE_* set")
	}
	if got, want := c.AttachmentMaxBytes, int64(10<<20); got != want {
		t.Errorf("AttachmentMaxBytes = %d, want %d", got, want)
	}
	if !slices.Equal(c.AttachmentTypes, chat.DefaultAttachmentTypes) {
		t.Errorf("AttachmentTypes = %v, want the default list", c.AttachmentTypes)
	}
}

func TestLoadReadsStorage(t *testing.T) {
	c, err := config.Load(env(with(r2, map[string]string{
		"STORAGE_FORCE_PATH_STYLE": "true", "ATTACHMENT_MAX_BYTES": "2048", "ATTACHMENT_TYPES": "Image/PNG, text/*",
	})))
	if err != nil {
		t.Fatal(err)
	}
	want := config.Storage{Endpoint: r2["STORAGE_ENDPOINT"], Region: "auto", Bucket: "chat-files",
		AccessKeyID: "r2-key-id", SecretAccessKey: "r2-secret-value", ForcePathStyle: true}
	if c.Storage != want {
		t.Errorf("Storage = %+v, want %+v", c.Storage, want)
	}
	if c.AttachmentMaxBytes != 2048 || !slices.Equal(c.AttachmentTypes, []string{"image/png", "text/*"}) {
		t.Errorf("limits = %d %v", c.AttachmentMaxBytes, c.AttachmentTypes)
	}
}

func TestLoadNamesTheStorageVariable(t *testing.T) {
	for _, tc := range []struct {
		name      string
		overrides map[string]string
		want      string
	}{
		{"no secret", with(r2, map[string]string{"STORAGE_SECRET_ACCESS_KEY": ""}), "STORAGE_SECRET_ACCESS_KEY is required"},
		{"only a bucket", map[string]string{"STORAGE_BUCKET": "b"}, "STORAGE_ENDPOINT is required"},
		{"plain http", with(r2, map[string]string{"STORAGE_ENDPOINT": "http://s3.example.com"}), "STORAGE_ENDPOINT must be an https URL"},
		{"bad path style", with(r2, map[string]string{"STORAGE_FORCE_PATH_STYLE": "yes please"}), "STORAGE_FORCE_PATH_STYLE"},
		{"bad max", map[string]string{"ATTACHMENT_MAX_BYTES": "10MB"}, "ATTACHMENT_MAX_BYTES"},
		{"bad type", map[string]string{"ATTACHMENT_TYPES": "png"}, "ATTACHMENT_TYPES"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(env(tc.overrides))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "r2-secret-value") {
				t.Fatalf("error echoes the secret: %v", err)
			}
		})
	}
	if _, err := config.Load(env(with(r2, map[string]string{"STORAGE_ENDPOINT": "http://127.0.0.1:7070"}))); err != nil {
		t.Fatalf("a loopback http endpoint (local MinIO, versitygw) is refused: %v", err)
	}
}
