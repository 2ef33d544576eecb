package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chatwire/chatwire/lib/auth"
	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/config"
	"github.com/chatwire/chatwire/lib/httpapi"
	"github.com/chatwire/chatwire/lib/realtime"
)

// The fuzz targets drive the real route handlers (middleware, decode[T],
// validation, chat.Service) with arbitrary bodies. The database is replaced
// by a guard: a chat.Store whose only methods check that what reaches them
// is input the contract accepts. Any other store method is a nil embedded
// interface and panics, which the handler's recovery turns into a 500 and
// the target reports. So an input that should have been refused before the
// database fails the target, and so does any 5xx or answer that is not JSON.

// guardStore is the fuzz targets' chat.Store.
type guardStore struct {
	chat.Store // nil: any method not below panics
	t          *testing.T
	reached    bool
}

var clientIDPattern = regexp.MustCompile(`\A[A-Za-z0-9_-]{1,64}\z`)

func (g *guardStore) SendMessage(_ context.Context, w chat.SendWrite) (chat.SavedMessage, error) {
	g.reached = true
	t, sender, m := g.t, w.Sender, w.Message
	if (m.ReceiverID == "") == (m.RoomID == "") {
		t.Errorf("store reached with to=%q and room_id=%q: exactly one is required", m.ReceiverID, m.RoomID)
	}
	if m.Body != strings.TrimSpace(m.Body) {
		t.Errorf("store reached with an untrimmed body %q", m.Body)
	}
	if m.Body == "" && m.Attachment == nil {
		t.Errorf("store reached with neither body nor attachment")
	}
	if n := utf8.RuneCountInString(m.Body); n > chat.MaxBodyChars {
		t.Errorf("store reached with a body of %d characters", n)
	}
	if !utf8.ValidString(m.Body) {
		t.Errorf("store reached with invalid UTF-8 %q", m.Body)
	}
	if m.ClientID != "" && !clientIDPattern.MatchString(m.ClientID) {
		t.Errorf("store reached with client_id %q", m.ClientID)
	}
	if m.ReceiverID == sender.ID {
		t.Errorf("store reached with a message to oneself")
	}
	if m.ReceiverID != "" && len(chat.ChatChannel(sender.ID, m.ReceiverID)) > chat.MaxChannelLength {
		t.Errorf("store reached with to=%q, too long for a channel", m.ReceiverID)
	}
	if m.RoomID != "" && len(chat.RoomChannel(m.RoomID)) > chat.MaxChannelLength {
		t.Errorf("store reached with room_id=%q, too long for a channel", m.RoomID)
	}
	if m.Attachment != nil && !strings.HasPrefix(m.Attachment.URL, "https://") {
		t.Errorf("store reached with attachment URL %q", m.Attachment.URL)
	}
	msg := chat.Message{ID: "00000000-0000-4000-8000-000000000000", SenderID: sender.ID, Body: m.Body, Attachment: m.Attachment, CreatedAt: time.Unix(0, 0)}
	return chat.SavedMessage{Message: msg, Created: true}, nil
}

var uuidPattern = regexp.MustCompile(`\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\z`)

func (g *guardStore) ClaimRowEvents(_ context.Context, row chat.RowEvents, _ chat.DeliverFunc) (int, error) {
	g.reached = true
	switch {
	case row.MessageID != "":
		if !uuidPattern.MatchString(row.MessageID) || row.RoomID != "" || row.UserID != "" {
			g.t.Errorf("store reached with row %+v: a message id must be a lower-case UUID alone", row)
		}
	case row.RoomID == "" || row.UserID == "":
		g.t.Errorf("store reached with row %+v: a membership needs room and user", row)
	}
	return 0, nil
}

func (g *guardStore) ApplyPresence(_ context.Context, changes []chat.PresenceChange) (chat.PresenceApplied, error) {
	g.reached = true
	seen := map[string]bool{}
	for _, c := range changes {
		if c.UserID == "" || seen[c.UserID] {
			g.t.Errorf("store reached with changes %+v: one non-empty user id each", changes)
		}
		seen[c.UserID] = true
		if c.At.IsZero() {
			g.t.Errorf("store reached with a change without time")
		}
	}
	return chat.PresenceApplied{}, nil
}

// guardPublisher fails the target if anything is published: the guard store
// writes no events.
type guardPublisher struct{ t *testing.T }

func (p guardPublisher) Publish(context.Context, []chat.Event) error {
	p.t.Errorf("published events the store never wrote")
	return nil
}

const fuzzPusherSecret = "fuzz-pusher-secret"

// fuzzDeps wires a route's dependencies around the guard store: the real
// verifier, the real pusher-http-go webhook check, a config with secrets.
func fuzzDeps(t *testing.T, g *guardStore) *httpapi.Deps {
	cfg := config.Config{
		DBWebhookSecret: dbWebhookSecret,
		Pusher:          config.Pusher{AppID: "1", Key: pusherKey, Secret: fuzzPusherSecret, Host: "127.0.0.1:1"},
	}
	v, err := auth.NewVerifier(auth.Config{JWTSecret: jwtSecret})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	return &httpapi.Deps{
		Config:   cfg,
		Log:      log,
		Verifier: v,
		Chat:     chat.NewService(g, guardPublisher{t}, log, chat.Options{}),
		Pusher:   realtime.New(cfg.Pusher, nil),
	}
}

// serveFuzz sends one request through the route and checks what every
// answer must be: no 5xx, JSON, an error code on every error.
func serveFuzz(t *testing.T, h http.Handler, req *http.Request) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("status %d for %q: %s", rec.Code, req.URL, rec.Body.Bytes())
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("status %d with a body that is not a JSON object: %q", rec.Code, rec.Body.Bytes())
	}
	if rec.Code >= 400 {
		e, _ := body["error"].(map[string]any)
		if code, _ := e["code"].(string); code == "" {
			t.Fatalf("status %d without an error code: %s", rec.Code, rec.Body.Bytes())
		}
	}
	return rec.Code, body
}

var fuzzToken string

func fuzzAliceToken(tb testing.TB) string {
	if fuzzToken == "" {
		tok, err := auth.SignHS256(jwtSecret, auth.User{ID: "alice", Name: "Alice"}, 24*time.Hour)
		if err != nil {
			tb.Fatal(err)
		}
		fuzzToken = tok
	}
	return fuzzToken
}

// FuzzSendRequest: any body to POST /api/messages/send is refused with a 4xx
// naming the problem, or reaches the store as a valid message and answers 201.
func FuzzSendRequest(f *testing.F) {
	tok := fuzzAliceToken(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		g := &guardStore{t: t}
		h := httpapi.Send.Handler(fuzzDeps(t, g))
		req := httptest.NewRequest("POST", "/api/messages/send", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		status, _ := serveFuzz(t, h, req)
		switch {
		case status == http.StatusCreated && !g.reached:
			t.Fatalf("201 without storing: %q", body)
		case status != http.StatusCreated && g.reached:
			t.Fatalf("status %d after storing: %q", status, body)
		case status != http.StatusCreated && status != http.StatusBadRequest && status != http.StatusRequestEntityTooLarge:
			t.Fatalf("status %d for %q", status, body)
		}
	})
}

// FuzzDatabaseWebhook: any Supabase database webhook body is refused with a
// 4xx or names a row the store can look up (a message UUID, or a room
// membership).
func FuzzDatabaseWebhook(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		g := &guardStore{t: t}
		h := httpapi.DatabaseWebhook.Handler(fuzzDeps(t, g))
		req := httptest.NewRequest("POST", "/api/webhooks/database", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+dbWebhookSecret)
		status, res := serveFuzz(t, h, req)
		if status == http.StatusOK && res["published"] != float64(0) {
			t.Fatalf("published %v with a store that claims nothing", res["published"])
		}
		if status != http.StatusOK && g.reached {
			t.Fatalf("status %d after reaching the store: %q", status, body)
		}
	})
}

// FuzzPusherWebhook: a body with a signature that is not this app's HMAC of
// it is always 401 and never reaches the store; a correctly signed body of
// any shape is parsed by pusher-http-go without a 5xx, and only presence
// channels' users reach the store.
func FuzzPusherWebhook(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, signature string, signIt bool) {
		g := &guardStore{t: t}
		h := httpapi.PusherWebhook.Handler(fuzzDeps(t, g))
		want := sign(fuzzPusherSecret, body)
		if signIt {
			signature = want
		}
		req := httptest.NewRequest("POST", "/api/pusher/webhook", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Pusher-Key", pusherKey)
		req.Header.Set("X-Pusher-Signature", signature)
		status, _ := serveFuzz(t, h, req)
		if !strings.EqualFold(signature, want) {
			if status != http.StatusUnauthorized || g.reached {
				t.Fatalf("a body signed %q (not its HMAC) answered %d, store reached %v", signature, status, g.reached)
			}
		}
	})
}

// The fuzz targets' guards must be reachable, or the targets would only ever
// see refusals: a valid request of each kind passes through to the store.
func TestFuzzGuardsSeeValidRequests(t *testing.T) {
	g := &guardStore{t: t}
	d := fuzzDeps(t, g)
	req := httptest.NewRequest("POST", "/api/messages/send", strings.NewReader(`{"to":"bob","body":" hi ","client_id":"c-1"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+fuzzAliceToken(t))
	if status, _ := serveFuzz(t, httpapi.Send.Handler(d), req); status != http.StatusCreated || !g.reached {
		t.Errorf("send: status %d, store reached %v; want 201 through the store", status, g.reached)
	}
	g.reached = false
	req = httptest.NewRequest("POST", "/api/webhooks/database", strings.NewReader(`{"type":"INSERT","table":"room_members","record":{"room_id":"r","user_id":"u"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+dbWebhookSecret)
	if status, _ := serveFuzz(t, httpapi.DatabaseWebhook.Handler(d), req); status != http.StatusOK || !g.reached {
		t.Errorf("database webhook: status %d, store reached %v; want 200 through the store", status, g.reached)
	}
	g.reached = false
	body := []byte(`{"time_ms":1,"events":[{"name":"channel_occupied","channel":"presence-user-alice"}]}`)
	req = httptest.NewRequest("POST", "/api/pusher/webhook", bytes.NewReader(body))
	req.Header.Set("X-Pusher-Key", pusherKey)
	req.Header.Set("X-Pusher-Signature", sign(fuzzPusherSecret, body))
	if status, _ := serveFuzz(t, httpapi.PusherWebhook.Handler(d), req); status != http.StatusOK || !g.reached {
		t.Errorf("pusher webhook: status %d, store reached %v; want 200 through the store", status, g.reached)
	}
}
