package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/localgw"
)

// TestDevGivesAWorkingUpload: with no STORAGE_* at all, dev starts its own
// S3-compatible store under .chatwire/ and a file goes from alice to bob.
func TestDevGivesAWorkingUpload(t *testing.T) {
	if _, err := localgw.FindBinary(os.Getenv); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	env := map[string]string{"DATABASE_URL": dbtest.NewDatabase(t), "VERSITYGW": os.Getenv("VERSITYGW")}
	client := newClient(t)
	cmd := startCommand(t, env, devArgs...)
	waitHealthy(t, client, cmd.addrs.App)
	banner := cmd.stdout.String()
	if !strings.Contains(banner, "Files     versitygw at http://127.0.0.1:") {
		t.Fatalf("banner does not describe the file store:\n%s", banner)
	}
	alice, bob := bannerToken(t, banner, "TOKEN"), bannerToken(t, banner, "BOB_TOKEN")

	call := func(method, path, token string, body any) (int, map[string]any) {
		t.Helper()
		var r io.Reader
		if body != nil {
			raw, _ := json.Marshal(body)
			r = bytes.NewReader(raw)
		}
		req, _ := http.NewRequest(method, cmd.addrs.App+path, r)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	file := []byte("GIF89a a tiny picture")
	status, grant := call("POST", "/api/attachments", alice, map[string]any{"name": "hi.gif", "size": len(file), "content_type": "image/gif"})
	if status != http.StatusCreated {
		t.Fatalf("request upload = %d %v", status, grant)
	}
	up := grant["upload"].(map[string]any)
	put, _ := http.NewRequest("PUT", up["url"].(string), bytes.NewReader(file))
	put.Header.Set("Content-Type", "image/gif")
	resp, err := client.Do(put)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT = %d", resp.StatusCode)
	}
	id := grant["attachment"].(map[string]any)["id"].(string)
	if status, ans := call("POST", "/api/messages/send", alice, map[string]any{"to": "bob", "attachment": map[string]any{"id": id}}); status != http.StatusCreated {
		t.Fatalf("send = %d %v", status, ans)
	}
	// bob follows the stable route to the bytes.
	req, _ := http.NewRequest("GET", cmd.addrs.App+"/api/attachments/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+bob)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, file) {
		t.Fatalf("bob's download = %d %q", resp.StatusCode, got)
	}
	if _, err := os.Stat(filepath.Join(dir, devDir, "storage", "buckets", devStorageBucket)); err != nil {
		t.Fatalf("the bucket is not under .chatwire/storage: %v", err)
	}
	cmd.stopCleanly(t)
}
