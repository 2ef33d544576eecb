package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/chatwire/chatwire/lib/chat"
)

// These tests run against versitygw, a real S3-compatible server that checks
// SigV4 signatures (lib/storagetest), never a stand-in.

var pngBytes = []byte("\x89PNG\r\n\x1a\n not really a picture, but bytes all the same")

// upload requests an upload as user and PUTs body to it as a browser would;
// it returns the attachment id.
func (a *app) upload(user, name, contentType string, body []byte) string {
	a.t.Helper()
	res := a.do("POST", "/api/attachments", user, map[string]any{"name": name, "size": len(body), "content_type": contentType}).
		expect(a.t, http.StatusCreated)
	if got := putUpload(a.t, res, body); got != http.StatusOK {
		a.t.Fatalf("PUT to the presigned URL = %d, want 200", got)
	}
	return res.field("attachment", "id").(string)
}

// putUpload sends body to the upload of a POST /api/attachments answer.
func putUpload(t testing.TB, res response, body []byte) int {
	t.Helper()
	up := res.field("upload").(map[string]any)
	req, err := http.NewRequest(up["method"].(string), up["url"].(string), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range up["headers"].(map[string]any) {
		req.Header.Set(k, v.(string))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// fetch GETs a URL without credentials, as an <img src> does.
func fetch(t testing.TB, u string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// fileRedirect asks GET /api/attachments/{id} as user without following the
// redirect; it returns the status and the Location.
func (a *app) fileRedirect(user, id string) (int, string) {
	a.t.Helper()
	req, err := http.NewRequest("GET", a.url+"/api/attachments/"+id, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+token(a.t, user, user))
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Location")
}

func attachmentOf(t testing.TB, message any) map[string]any {
	t.Helper()
	m, _ := message.(map[string]any)
	a, ok := m["attachment"].(map[string]any)
	if !ok {
		t.Fatalf("message has no attachment: %v", message)
	}
	return a
}

func TestFileMessageReachesTheOtherSideWithWorkingURLs(t *testing.T) {
	a := newApp(t, appOptions{storage: true})
	bob := a.subscriber("bob")
	bob.subscribe(chat.ChatChannel("alice", "bob"))
	cursor := a.do("GET", "/api/messages/poll", "bob", nil).expect(t, http.StatusOK).field("cursor").(string)

	res := a.do("POST", "/api/attachments", "alice", map[string]any{"name": "cat.png", "size": len(pngBytes), "content_type": "image/png"}).
		expect(t, http.StatusCreated)
	if got := res.field("upload", "method"); got != "PUT" {
		t.Fatalf("upload.method = %v, want PUT", got)
	}
	if got := res.field("upload", "headers", "Content-Type"); got != "image/png" {
		t.Fatalf("upload.headers = %v, want Content-Type image/png", res.field("upload", "headers"))
	}
	expires, err := time.Parse(time.RFC3339, res.field("upload", "expires_at").(string))
	if err != nil || !expires.After(time.Now()) {
		t.Fatalf("upload.expires_at = %v (%v), want a future time", res.field("upload", "expires_at"), err)
	}
	id := res.field("attachment", "id").(string)
	for k, want := range map[string]any{"name": "cat.png", "size": float64(len(pngBytes)), "content_type": "image/png"} {
		if got := res.field("attachment", k); got != want {
			t.Errorf("attachment.%s = %v, want %v", k, got, want)
		}
	}
	if !strings.Contains(res.field("upload", "url").(string), id) {
		t.Errorf("upload URL %s does not name the attachment", res.field("upload", "url"))
	}
	if got := putUpload(t, res, pngBytes); got != http.StatusOK {
		t.Fatalf("PUT = %d", got)
	}

	sent := a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "attachment": map[string]any{"id": id}}).
		expect(t, http.StatusCreated)
	att := attachmentOf(t, sent.field("message"))
	for k, want := range map[string]any{"id": id, "name": "cat.png", "size": float64(len(pngBytes)), "content_type": "image/png"} {
		if att[k] != want {
			t.Errorf("message attachment.%s = %v, want %v", k, att[k], want)
		}
	}
	if status, body := fetch(t, att["url"].(string)); status != http.StatusOK || !bytes.Equal(body, pngBytes) {
		t.Fatalf("the send answer's URL gives %d %q", status, body)
	}

	// Pusher: the event carries a URL signed when it was published.
	e := decodeData(t, bob.expectEvent("new-message", chat.ChatChannel("alice", "bob")))
	if status, body := fetch(t, attachmentOf(t, e)["url"].(string)); status != http.StatusOK || !bytes.Equal(body, pngBytes) {
		t.Fatalf("the Pusher event's URL gives %d %q", status, body)
	}
	// Poll: signed when polled.
	events, _ := a.pollUntil("bob", cursor, 1)
	var polled map[string]any
	for _, ev := range events {
		if ev["event"] == "new-message" {
			polled = ev["data"].(map[string]any)
		}
	}
	if polled == nil {
		t.Fatalf("poll gave no new-message: %v", events)
	}
	if status, _ := fetch(t, attachmentOf(t, polled)["url"].(string)); status != http.StatusOK {
		t.Fatalf("the polled event's URL gives %d", status)
	}
	// History: signed for each page.
	hist := a.do("GET", "/api/messages/history?with=alice", "bob", nil).expect(t, http.StatusOK)
	msgs := hist.field("messages").([]any)
	if len(msgs) != 1 {
		t.Fatalf("history has %d messages, want 1", len(msgs))
	}
	if status, body := fetch(t, attachmentOf(t, msgs[0])["url"].(string)); status != http.StatusOK || !bytes.Equal(body, pngBytes) {
		t.Fatalf("the history URL gives %d %q", status, body)
	}

	// The stable route: members get a redirect to the bytes, others 404.
	for _, user := range []string{"alice", "bob"} {
		status, loc := a.fileRedirect(user, id)
		if status != http.StatusFound {
			t.Fatalf("GET /api/attachments/{id} as %s = %d, want 302", user, status)
		}
		if status, body := fetch(t, loc); status != http.StatusOK || !bytes.Equal(body, pngBytes) {
			t.Fatalf("the redirect of %s leads to %d %q", user, status, body)
		}
	}
	if status, _ := a.fileRedirect("carol", id); status != http.StatusNotFound {
		t.Errorf("a non-member fetching the file = %d, want 404", status)
	}
	if status, _ := a.fileRedirect("", id); status != http.StatusUnauthorized {
		t.Errorf("no token = %d, want 401", status)
	}
	if status, _ := a.fileRedirect("bob", "5f0c8a57-3b59-4d1c-9a51-6c0b1f0f6e00"); status != http.StatusNotFound {
		t.Errorf("an unknown id = %d, want 404", status)
	}
	if status, _ := a.fileRedirect("bob", "not-a-uuid"); status != http.StatusNotFound {
		t.Errorf("a malformed id = %d, want 404", status)
	}
}

func TestUploadRequestsAreChecked(t *testing.T) {
	a := newApp(t, appOptions{storage: true, realtimeDisabled: true, env: map[string]string{
		"ATTACHMENT_MAX_BYTES": "1000", "ATTACHMENT_TYPES": "image/png, image/jpeg, text/*",
	}})
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"too big", map[string]any{"name": "a.png", "size": 1001, "content_type": "image/png"}, "size"},
		{"empty", map[string]any{"name": "a.png", "size": 0, "content_type": "image/png"}, "size"},
		{"type not accepted", map[string]any{"name": "a.svg", "size": 10, "content_type": "image/svg+xml"}, "content_type"},
		{"no type", map[string]any{"name": "a", "size": 10}, "content_type"},
		{"no name", map[string]any{"size": 10, "content_type": "image/png"}, "name"},
		{"a path as name", map[string]any{"name": "../etc/passwd", "size": 10, "content_type": "text/plain"}, "name"},
		// "invoice\u202Egnp.exe" shows as "invoiceexe.png" and saves as .exe.
		{"a bidi override in the name", map[string]any{"name": "invoice\u202Egnp.exe", "size": 10, "content_type": "image/png"}, "name"},
	} {
		res := a.do("POST", "/api/attachments", "alice", tc.body).expect(t, http.StatusBadRequest)
		if res.field("error", "fields", tc.field) == nil {
			t.Errorf("%s: error does not name %s: %s", tc.name, tc.field, res.raw)
		}
	}
	a.do("POST", "/api/attachments", "alice", map[string]any{"name": "notes.txt", "size": 1000, "content_type": "text/markdown"}).
		expect(t, http.StatusCreated)
	a.do("POST", "/api/attachments", "", map[string]any{"name": "a.png", "size": 10, "content_type": "image/png"}).
		expect(t, http.StatusUnauthorized)
}

func TestFilesAreOffWithoutStorage(t *testing.T) {
	a := newApp(t, appOptions{realtimeDisabled: true})
	res := a.do("POST", "/api/attachments", "alice", map[string]any{"name": "a.png", "size": 10, "content_type": "image/png"}).
		expect(t, http.StatusServiceUnavailable)
	if !strings.Contains(res.field("error", "message").(string), "storage is not configured") {
		t.Fatalf("503 does not say why: %s", res.raw)
	}
	a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "attachment": map[string]any{"id": "5f0c8a57-3b59-4d1c-9a51-6c0b1f0f6e00"}}).
		expect(t, http.StatusServiceUnavailable)
	// Links keep working as before.
	sent := a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "attachment": map[string]any{
		"url": "https://example.com/a.png", "name": "a.png", "size": 10, "content_type": "image/png"}}).expect(t, http.StatusCreated)
	if got := attachmentOf(t, sent.field("message"))["url"]; got != "https://example.com/a.png" {
		t.Fatalf("linked attachment url = %v", got)
	}
}

func TestSendRefusesAttachmentsThatAreNotTheSendersUnsentUpload(t *testing.T) {
	a := newApp(t, appOptions{storage: true, realtimeDisabled: true})
	send := func(user string, body map[string]any) response {
		t.Helper()
		return a.do("POST", "/api/messages/send", user, body)
	}
	refused := func(res response, status int) {
		t.Helper()
		res.expect(t, status)
		if res.field("error", "fields", "attachment.id") == nil {
			t.Fatalf("error does not name attachment.id: %s", res.raw)
		}
	}
	bobs := a.upload("bob", "b.png", "image/png", pngBytes)

	// Someone else's upload, an unknown id, a malformed id.
	refused(send("alice", map[string]any{"to": "carol", "attachment": map[string]any{"id": bobs}}), http.StatusNotFound)
	refused(send("alice", map[string]any{"to": "carol", "attachment": map[string]any{"id": "5f0c8a57-3b59-4d1c-9a51-6c0b1f0f6e00"}}), http.StatusNotFound)
	refused(send("alice", map[string]any{"to": "carol", "attachment": map[string]any{"id": "nope"}}), http.StatusBadRequest)
	// An id together with a link.
	res := send("alice", map[string]any{"to": "carol", "attachment": map[string]any{"id": bobs, "url": "https://example.com/x"}}).
		expect(t, http.StatusBadRequest)
	if res.field("error", "fields", "attachment.url") == nil {
		t.Fatalf("error does not name attachment.url: %s", res.raw)
	}

	// Requested but never uploaded.
	pending := a.do("POST", "/api/attachments", "alice", map[string]any{"name": "p.png", "size": 10, "content_type": "image/png"}).
		expect(t, http.StatusCreated).field("attachment", "id").(string)
	refused(send("alice", map[string]any{"to": "carol", "attachment": map[string]any{"id": pending}}), http.StatusConflict)

	// Uploaded with another size than declared. The presigned PUT cannot do
	// that (the storage refuses it), so the object is written with the
	// storage's own keys, as a misbehaving service might let a client do.
	wrong := a.do("POST", "/api/attachments", "alice", map[string]any{"name": "w.png", "size": 10, "content_type": "image/png"}).
		expect(t, http.StatusCreated).field("attachment", "id").(string)
	a.putObject(chat.ObjectKey("alice", wrong), []byte("eleven byte"))
	refused(send("alice", map[string]any{"to": "carol", "attachment": map[string]any{"id": wrong}}), http.StatusBadRequest)

	if got := a.do("GET", "/api/messages/history?with=carol", "alice", nil).expect(t, http.StatusOK).field("messages").([]any); len(got) != 0 {
		t.Fatalf("refused sends stored %d messages", len(got))
	}

	// Sent once; a retry with the same client_id gets the same message; any
	// other message is refused.
	mine := a.upload("alice", "a.png", "image/png", pngBytes)
	first := send("alice", map[string]any{"to": "carol", "client_id": "c1", "attachment": map[string]any{"id": mine}}).expect(t, http.StatusCreated)
	again := send("alice", map[string]any{"to": "carol", "client_id": "c1", "attachment": map[string]any{"id": mine}}).expect(t, http.StatusOK)
	if first.field("message", "id") != again.field("message", "id") {
		t.Fatalf("retry gave another message")
	}
	refused(send("alice", map[string]any{"to": "carol", "client_id": "c2", "attachment": map[string]any{"id": mine}}), http.StatusConflict)
	refused(send("alice", map[string]any{"room_id": "nowhere", "attachment": map[string]any{"id": mine}}), http.StatusConflict)
	if got := a.do("GET", "/api/messages/history?with=carol", "alice", nil).expect(t, http.StatusOK).field("messages").([]any); len(got) != 1 {
		t.Fatalf("history has %d messages, want 1", len(got))
	}
}

// TestTheDatabaseBindsAnUploadToOneMessage races two sends of one upload
// with different client_ids past the application's check: the insert's
// trigger lets exactly one through.
func TestTheDatabaseBindsAnUploadToOneMessage(t *testing.T) {
	a := newApp(t, appOptions{storage: true, realtimeDisabled: true})
	id := a.upload("alice", "a.png", "image/png", pngBytes)
	results := make(chan int, 2)
	for _, clientID := range []string{"r1", "r2"} {
		go func() {
			results <- a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "client_id": clientID, "attachment": map[string]any{"id": id}}).status
		}()
	}
	got := map[int]int{<-results: 1}
	got[<-results]++
	if got[http.StatusCreated] != 1 || got[http.StatusConflict] != 1 {
		t.Fatalf("statuses = %v, want one 201 and one 409", got)
	}
	// A direct insert past the API is refused by the database too.
	_, err := a.pool.Exec(context.Background(), `INSERT INTO messages (sender_id, receiver_id, attachment)
VALUES ('mallory', 'bob', jsonb_build_object('id', $1::text, 'name', 'x'))`, id)
	if err == nil || !strings.Contains(err.Error(), "CW016") {
		t.Fatalf("direct insert naming someone's upload: err = %v, want SQLSTATE CW016", err)
	}
}

func TestFormerRoomMemberLosesAccessToTheRoomsFiles(t *testing.T) {
	a := newApp(t, appOptions{storage: true, realtimeDisabled: true})
	room := a.do("POST", "/api/rooms", "alice", map[string]any{"name": "team", "visibility": "public"}).
		expect(t, http.StatusCreated).field("room", "id").(string)
	a.do("POST", "/api/rooms/join", "bob", map[string]any{"room_id": room}).expect(t, http.StatusOK)
	id := a.upload("alice", "plan.pdf", "application/pdf", []byte("%PDF-1.4 plan"))
	a.do("POST", "/api/messages/send", "alice", map[string]any{"room_id": room, "attachment": map[string]any{"id": id}}).expect(t, http.StatusCreated)

	if status, _ := a.fileRedirect("bob", id); status != http.StatusFound {
		t.Fatalf("member = %d, want 302", status)
	}
	if status, _ := a.fileRedirect("carol", id); status != http.StatusNotFound {
		t.Fatalf("non-member = %d, want 404", status)
	}
	a.do("POST", "/api/rooms/leave", "bob", map[string]any{"room_id": room}).expect(t, http.StatusOK)
	if status, _ := a.fileRedirect("bob", id); status != http.StatusNotFound {
		t.Fatalf("former member = %d, want 404", status)
	}
	if status, _ := a.fileRedirect("alice", id); status != http.StatusFound {
		t.Fatalf("remaining member = %d, want 302", status)
	}
}

func TestExpiredAndTamperedFileURLsAreRefusedByTheStorage(t *testing.T) {
	var offset atomic.Int64
	a := newApp(t, appOptions{storage: true, realtimeDisabled: true,
		storageClock: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }})
	id := a.upload("alice", "a.png", "image/png", pngBytes)
	a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "attachment": map[string]any{"id": id}}).expect(t, http.StatusCreated)
	history := func() string {
		msgs := a.do("GET", "/api/messages/history?with=alice", "bob", nil).expect(t, http.StatusOK).field("messages").([]any)
		return attachmentOf(t, msgs[0])["url"].(string)
	}

	good := history()
	if status, _ := fetch(t, good); status != http.StatusOK {
		t.Fatalf("fresh URL = %d", status)
	}
	u, err := url.Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("X-Amz-Expires", "604800")
	u.RawQuery = q.Encode()
	if status, _ := fetch(t, u.String()); status != http.StatusForbidden {
		t.Errorf("URL with a longer lifetime = %d, want 403", status)
	}
	other := a.upload("alice", "b.png", "image/png", []byte("other bytes"))
	swapped := strings.Replace(good, id, other, 1)
	if status, _ := fetch(t, swapped); status != http.StatusForbidden {
		t.Errorf("URL pointed at another file = %d, want 403", status)
	}

	// URLs are short-lived: one signed an hour ago no longer works; the next
	// history page signs a fresh one.
	offset.Store(int64(-time.Hour))
	stale := history()
	if status, _ := fetch(t, stale); status != http.StatusForbidden {
		t.Errorf("URL signed an hour ago = %d, want 403", status)
	}
	offset.Store(0)
	if status, _ := fetch(t, history()); status != http.StatusOK {
		t.Errorf("the next history page's URL = %d, want 200", status)
	}
}

func TestCronRemovesUploadsNeverSent(t *testing.T) {
	a := newApp(t, appOptions{storage: true, realtimeDisabled: true, env: map[string]string{"CRON_SECRET": "cron-secret"}})
	unsent := a.upload("alice", "a.png", "image/png", pngBytes)
	young := a.upload("alice", "y.png", "image/png", pngBytes)
	sent := a.upload("alice", "s.png", "image/png", pngBytes)
	a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "attachment": map[string]any{"id": sent}}).expect(t, http.StatusCreated)
	if _, err := a.pool.Exec(context.Background(), `UPDATE attachments SET created_at = now() - interval '25 hours' WHERE id <> $1::uuid`, young); err != nil {
		t.Fatal(err)
	}
	res := a.do("GET", "/api/cron/outbox", "", nil, "Authorization", "Bearer cron-secret").expect(t, http.StatusOK)
	if got := res.field("files_removed"); got != float64(1) {
		t.Fatalf("files_removed = %v, want 1: %s", got, res.raw)
	}
	if a.objectExists(chat.ObjectKey("alice", unsent)) {
		t.Error("the unsent upload's object is still there")
	}
	for _, id := range []string{young, sent} {
		if !a.objectExists(chat.ObjectKey("alice", id)) {
			t.Errorf("upload %s was removed", id)
		}
	}
	a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "attachment": map[string]any{"id": unsent}}).
		expect(t, http.StatusNotFound)
	if status, _ := a.fileRedirect("bob", sent); status != http.StatusFound {
		t.Fatalf("the sent file = %d, want 302", status)
	}
}

// s3Admin is an S3 client with the storage's own keys, for what no user can do.
func (a *app) s3Admin() *s3.Client {
	return s3.New(s3.Options{
		Region: a.storage.Region, BaseEndpoint: aws.String(a.storage.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(a.storage.AccessKeyID, a.storage.SecretAccessKey, ""),
	})
}

func (a *app) putObject(key string, body []byte) {
	a.t.Helper()
	_, err := a.s3Admin().PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(a.storage.Bucket), Key: aws.String(key), Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
	})
	if err != nil {
		a.t.Fatal(err)
	}
}

func (a *app) objectExists(key string) bool {
	a.t.Helper()
	_, err := a.s3Admin().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(a.storage.Bucket), Key: aws.String(key)})
	return err == nil
}

// TestDeletingAMessageDeletesItsFile: once the message is gone nobody can
// fetch the file, and the next cron run deletes the object.
func TestDeletingAMessageDeletesItsFile(t *testing.T) {
	a := newApp(t, appOptions{storage: true, realtimeDisabled: true, env: map[string]string{"CRON_SECRET": "cron-secret"}})
	cursor := a.do("GET", "/api/messages/poll", "bob", nil).expect(t, http.StatusOK).field("cursor").(string)
	id := a.upload("alice", "a.png", "image/png", pngBytes)
	msg := a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "attachment": map[string]any{"id": id}}).
		expect(t, http.StatusCreated).field("message", "id").(string)
	if status, _ := a.fileRedirect("bob", id); status != http.StatusFound {
		t.Fatalf("before the delete = %d, want 302", status)
	}
	// The message's event stays in the log; wait until poll hands it out,
	// so the replay after the delete below reads the same row.
	if events, _ := a.pollUntil("bob", cursor, 1); len(events) == 0 {
		t.Fatal("poll never gave the new-message event")
	}
	// chatwire has no delete route yet (the inbox work adds one); any delete
	// of the row, or a tombstone clearing its attachment, does the same.
	if _, err := a.pool.Exec(context.Background(), `DELETE FROM messages WHERE id = $1::uuid`, msg); err != nil {
		t.Fatal(err)
	}
	if status, _ := a.fileRedirect("bob", id); status != http.StatusNotFound {
		t.Fatalf("after the delete = %d, want 404", status)
	}
	// A client replaying the log from an older cursor (or the outbox
	// redelivering) must not get a fresh URL to the deleted message's file
	// in the hours before the cron removes the object.
	events, _ := a.pollUntil("bob", cursor, 1)
	for _, e := range events {
		if e["event"] != "new-message" {
			continue
		}
		if u, ok := attachmentOf(t, e["data"])["url"].(string); ok {
			status, _ := fetch(t, u)
			t.Fatalf("poll after the delete signed the file anew (GET = %d): %s", status, u)
		}
	}
	res := a.do("GET", "/api/cron/outbox", "", nil, "Authorization", "Bearer cron-secret").expect(t, http.StatusOK)
	if got := res.field("files_removed"); got != float64(1) {
		t.Fatalf("files_removed = %v, want 1", got)
	}
	if a.objectExists(chat.ObjectKey("alice", id)) {
		t.Fatal("the object outlived its message")
	}
}

// TestScriptableFilesAreNeverServedInline: a picture family in
// ATTACHMENT_TYPES (README's own example) must not admit SVG or HTML, which
// run scripts when opened from the bucket; a type an operator lists by name
// anyway is served as a download, never inline.
func TestScriptableFilesAreNeverServedInline(t *testing.T) {
	a := newApp(t, appOptions{storage: true, realtimeDisabled: true, env: map[string]string{
		"ATTACHMENT_TYPES": "image/*, text/*, application/xml",
	}})
	for _, ct := range []string{"image/svg+xml", "text/html", "text/xml", "text/javascript"} {
		res := a.do("POST", "/api/attachments", "alice", map[string]any{"name": "x", "size": 10, "content_type": ct}).
			expect(t, http.StatusBadRequest)
		if res.field("error", "fields", "content_type") == nil {
			t.Errorf("%s: error does not name content_type: %s", ct, res.raw)
		}
	}
	disposition := func(id string) string {
		t.Helper()
		status, loc := a.fileRedirect("alice", id)
		if status != http.StatusFound {
			t.Fatalf("GET /api/attachments/%s = %d", id, status)
		}
		resp, err := http.Get(loc)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET the signed URL = %d", resp.StatusCode)
		}
		return resp.Header.Get("Content-Disposition")
	}
	listed := a.upload("alice", "feed.xml", "application/xml", []byte("<x>1</x>"))
	if d := disposition(listed); !strings.HasPrefix(d, "attachment") {
		t.Errorf("application/xml served with Content-Disposition %q, want attachment", d)
	}
	picture := a.upload("alice", "cat.png", "image/png", pngBytes)
	if d := disposition(picture); !strings.HasPrefix(d, "inline") {
		t.Errorf("image/png served with Content-Disposition %q, want inline", d)
	}
}

// The conversation list's last message, an edit's answer and its
// message-updated event carry a file message's working URL, as history does.
func TestFileURLsInTheConversationListAndEdits(t *testing.T) {
	a := newApp(t, appOptions{storage: true})
	bob := a.subscriber("bob")
	bob.subscribe(chat.ChatChannel("alice", "bob"))
	id := a.upload("alice", "cat.png", "image/png", pngBytes)
	sent := a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "look", "attachment": map[string]any{"id": id}}).
		expect(t, http.StatusCreated)

	list := a.do("GET", "/api/conversations", "bob", nil).expect(t, http.StatusOK).field("conversations").([]any)
	if len(list) != 1 {
		t.Fatalf("bob's conversations = %v, want the chat with alice", list)
	}
	last := list[0].(map[string]any)["last_message"]
	if status, body := fetch(t, attachmentOf(t, last)["url"].(string)); status != http.StatusOK || !bytes.Equal(body, pngBytes) {
		t.Fatalf("the conversation list's URL gives %d %q", status, body)
	}

	edited := a.do("POST", "/api/messages/edit", "alice", map[string]any{"id": sent.field("message", "id"), "body": "look at this"}).
		expect(t, http.StatusOK)
	if status, _ := fetch(t, attachmentOf(t, edited.field("message"))["url"].(string)); status != http.StatusOK {
		t.Fatalf("the edit answer's URL gives %d", status)
	}
	e := decodeData(t, bob.expectEvent("message-updated", chat.ChatChannel("alice", "bob")))
	if status, _ := fetch(t, attachmentOf(t, e)["url"].(string)); status != http.StatusOK {
		t.Fatalf("the message-updated event's URL gives %d", status)
	}
}
