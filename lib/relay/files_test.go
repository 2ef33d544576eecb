package relay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/relay"
	"github.com/chatwire/chatwire/lib/storage"
	"github.com/chatwire/chatwire/lib/storagetest"
	"github.com/chatwire/chatwire/lib/store"
)

// A file message whose sender could not publish it reaches the other side
// through the relay with a signed URL that works, as every other way out of
// the log (publish, poll, the cron) gives it: without one a client cannot
// show the picture.
func TestFileMessagesThroughTheRelayCarryAWorkingURL(t *testing.T) {
	h := newHarness(t)
	bob := h.subscriber("private-chat-alice-bob")
	files, err := storage.New(storagetest.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	pool, err := store.Open(context.Background(), h.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	svc := chat.NewService(store.New(pool), h.api, h.logger(), chat.Options{Files: chat.FileOptions{Storage: files}})
	ctx := context.Background()

	picture := []byte("\x89PNG\r\n\x1a\n a picture's bytes")
	grant, err := svc.RequestUpload(ctx, user("alice"), chat.AttachmentInput{Name: "cat.png", Size: int64(len(picture)), ContentType: "image/png"})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(grant.Upload.Method, grant.Upload.URL, bytes.NewReader(picture))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range grant.Upload.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT = %v, %v", resp, err)
	}
	resp.Body.Close()

	// Pusher refuses the sender's own publish: the event stays pending.
	h.faults.set(answer503)
	res, err := svc.Send(ctx, user("alice"), chat.SendInput{To: "bob", Attachment: &chat.Attachment{ID: grant.Attachment.ID}})
	if err != nil || res.Published {
		t.Fatalf("send: %+v, %v; want stored and not published", res, err)
	}
	h.faults.set(passThrough)
	h.startRelayWith(relayPublisher(svc, h.api), relay.Options{})

	var data struct {
		Attachment chat.Attachment `json:"attachment"`
	}
	waitFor(t, 30*time.Second, "the relay's new-message", func() bool {
		for _, e := range bob.snapshot() {
			if e.Event == "new-message" {
				if err := json.Unmarshal([]byte(e.Data), &data); err != nil {
					t.Fatal(err)
				}
				return true
			}
		}
		return false
	})
	if data.Attachment.ID != grant.Attachment.ID || data.Attachment.URL == "" {
		t.Fatalf("the relay delivered attachment %+v, want id %s with a signed URL", data.Attachment, grant.Attachment.ID)
	}
	got, err := http.Get(data.Attachment.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Body.Close()
	body, _ := io.ReadAll(got.Body)
	if got.StatusCode != http.StatusOK || !bytes.Equal(body, picture) {
		t.Fatalf("the relay's URL gives %d %q", got.StatusCode, body)
	}
}

// relayPublisher is what `chatwire relay` and `dev` publish through.
func relayPublisher(svc *chat.Service, next chat.Publisher) chat.Publisher {
	return svc.SignFiles(next)
}
