package main

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chatwire/chatwire/lib/auth"
	"github.com/chatwire/chatwire/lib/pusherlocal"
)

// demoAssets is the demo chat page, built from demo/ by
// `npm run build:demo --prefix e2e` and committed, so that dev serves it with
// no network and no npm step.
//
//go:embed demo
var demoAssets embed.FS

// demoUsers are the people of the demo: anyone who opens the page picks one.
var demoUsers = []auth.User{{ID: "alice", Name: "Alice"}, {ID: "bob", Name: "Bob"}, {ID: "carol", Name: "Carol"}}

// demoRoomName is the public room every demo user is put in.
const demoRoomName = "Lobby"

// demo serves dev's demo chat: the page at /, its assets under /demo/, and
// a small dev-only API beside chatwire's own routes:
//
//	GET  /demo/config.json  what pusher-js needs, the users and the room
//	POST /demo/token        {"user":"alice"} → {"token":"…"}, a development JWT
//	POST /demo/pusher       {"running":false} stops the Pusher server, true restarts it
//
// Only dev mounts it: it hands out tokens to whoever asks.
type demo struct {
	api    http.Handler // chatwire's routes, also called in-process to set up the room
	getenv func(string) string
	pusher *devPusher
	key    string // PUSHER_KEY, public in any browser
	log    *slog.Logger

	mu     sync.Mutex
	roomID string // set once the room exists and everyone is in it
}

// withDemo serves the demo in front of api.
func withDemo(api http.Handler, getenv func(string) string, pusher *devPusher, key string, log *slog.Logger) http.Handler {
	d := &demo{api: api, getenv: getenv, pusher: pusher, key: key, log: log}
	assets, err := fs.Sub(demoAssets, "demo")
	if err != nil {
		panic(err) // the directory is embedded; only a broken build lacks it
	}
	static := http.StripPrefix("/demo/", http.FileServerFS(assets))
	mux := http.NewServeMux()
	mux.Handle("/", api)
	mux.Handle("GET /{$}", noCache(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, assets, "index.html")
	})))
	mux.Handle("GET /demo/", loopbackOnly(noCache(static)))
	mux.Handle("GET /demo/config.json", loopbackOnly(http.HandlerFunc(d.handleConfig)))
	mux.Handle("POST /demo/token", loopbackOnly(http.HandlerFunc(d.handleToken)))
	mux.Handle("POST /demo/pusher", loopbackOnly(http.HandlerFunc(d.handlePusher)))
	return mux
}

// loopbackOnly answers only clients on this machine: /demo/token hands out a
// token for any user to whoever asks, which must not reach the network even
// when dev is told to listen on every interface.
func loopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isLoopbackClient(r) {
			writeDemoError(w, http.StatusForbidden, "forbidden", "the demo answers only on this machine")
			return
		}
		h.ServeHTTP(w, r)
	})
}

func isLoopbackClient(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// noCache makes browsers revalidate: the embedded files carry no dates, and
// a rebuilt binary must not run a stale script.
func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

func (d *demo) handleConfig(w http.ResponseWriter, r *http.Request) {
	roomID, err := d.room(r.Context())
	if err != nil {
		d.log.Error("demo: set up the room", "err", err)
		writeDemoError(w, http.StatusServiceUnavailable, "unavailable", "the demo room could not be set up; see dev's log")
		return
	}
	type user struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	users := make([]user, len(demoUsers))
	for i, u := range demoUsers {
		users[i] = user{u.ID, u.Name}
	}
	host, port := d.pusherHostPort(r)
	writeDemoJSON(w, http.StatusOK, map[string]any{
		"pusher": map[string]any{"key": d.key, "host": host, "port": port, "running": d.pusher.Running()},
		"users":  users,
		"room":   map[string]string{"id": roomID, "name": demoRoomName},
	})
}

// pusherHostPort is where the browser finds the Pusher server: on the host it
// reached the page by when the server listens on loopback or every
// interface, so that the demo also works from another machine.
func (d *demo) pusherHostPort(r *http.Request) (string, int) {
	host, portText, _ := net.SplitHostPort(d.pusher.Addr())
	port, _ := strconv.Atoi(portText)
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return host, port
	}
	pageHost := r.Host
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		pageHost = h
	}
	if strings.Contains(pageHost, ":") {
		pageHost = "[" + pageHost + "]" // pusher-js writes host:port into the URL as is
	}
	return pageHost, port
}

func (d *demo) handleToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		User string `json:"user"`
	}
	if !decodeDemoJSON(w, r, &in) {
		return
	}
	var user auth.User
	for _, u := range demoUsers {
		if u.ID == in.User {
			user = u
		}
	}
	if user.ID == "" {
		writeDemoError(w, http.StatusBadRequest, "validation_failed", "user must be one of alice, bob, carol")
		return
	}
	secret, err := signingSecret(d.getenv)
	if err != nil {
		writeDemoError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	token, err := auth.SignHS256(secret, user, devTokenTTL, signOptions(d.getenv)...)
	if err != nil {
		writeDemoError(w, http.StatusInternalServerError, "internal", "could not sign the token")
		return
	}
	writeDemoJSON(w, http.StatusOK, map[string]any{"token": token, "user": map[string]string{"id": user.ID, "name": user.Name}})
}

func (d *demo) handlePusher(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Running *bool `json:"running"`
	}
	if !decodeDemoJSON(w, r, &in) {
		return
	}
	if in.Running == nil {
		writeDemoError(w, http.StatusBadRequest, "validation_failed", "running is required")
		return
	}
	if err := d.pusher.SetRunning(*in.Running); err != nil {
		d.log.Error("demo: switch the Pusher server", "running", *in.Running, "err", err)
		writeDemoError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	writeDemoJSON(w, http.StatusOK, map[string]bool{"running": d.pusher.Running()})
}

// room returns the id of the demo room, creating it (as the first demo user)
// and putting every demo user in it on first use. It goes through chatwire's
// own routes, in process, as any client would. A failure is retried by the
// next call.
func (d *demo) room(ctx context.Context) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.roomID != "" {
		return d.roomID, nil
	}
	secret, err := signingSecret(d.getenv)
	if err != nil {
		return "", err
	}
	creator := demoUsers[0]
	token, err := auth.SignHS256(secret, creator, time.Minute, signOptions(d.getenv)...)
	if err != nil {
		return "", err
	}

	// A room of an earlier run of dev on the same database is reused.
	var list struct {
		Rooms []struct{ ID, Name, Visibility, CreatedBy string } `json:"rooms"`
	}
	if err := d.call(ctx, token, http.MethodGet, "/api/rooms", nil, &list); err != nil {
		return "", err
	}
	roomID := ""
	for _, room := range list.Rooms {
		if room.Name == demoRoomName && room.Visibility == "public" && room.CreatedBy == creator.ID {
			roomID = room.ID
		}
	}
	if roomID == "" {
		var created struct{ Room struct{ ID string } }
		if err := d.call(ctx, token, http.MethodPost, "/api/rooms", map[string]string{"name": demoRoomName, "visibility": "public"}, &created); err != nil {
			return "", err
		}
		roomID = created.Room.ID
	}
	for _, u := range demoUsers[1:] {
		// Each user joins the public room themselves rather than being added
		// by its creator: an added member's status stays hidden from the room
		// until they join themselves, and the demo shows room members' dots.
		// Joining twice changes nothing, so a restart may repeat this; a user
		// an earlier run added accepts the add.
		memberToken, err := auth.SignHS256(secret, u, time.Minute, signOptions(d.getenv)...)
		if err != nil {
			return "", err
		}
		if err := d.call(ctx, memberToken, http.MethodPost, "/api/rooms/join", map[string]string{"room_id": roomID}, nil); err != nil {
			return "", err
		}
	}
	d.roomID = roomID
	return roomID, nil
}

// call makes a request to chatwire's routes in process and decodes a 2xx
// answer into out.
func (d *demo) call(ctx context.Context, token, method, path string, body, out any) error {
	var reader io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		reader = bytes.NewReader(raw)
	}
	req := httptest.NewRequestWithContext(ctx, method, path, reader)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	d.api.ServeHTTP(rec, req)
	if rec.Code/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, rec.Code, bytes.TrimSpace(rec.Body.Bytes()))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(rec.Body.Bytes(), out)
}

// decodeDemoJSON reads a small JSON body. Requiring application/json makes a
// cross-site form post impossible: browsers preflight it, and dev answers no
// preflight.
func decodeDemoJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeDemoError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json")
		return false
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(v); err != nil {
		writeDemoError(w, http.StatusBadRequest, "bad_request", "the body is not the expected JSON object")
		return false
	}
	return true
}

// writeDemoError answers in the error shape of API.md.
func writeDemoError(w http.ResponseWriter, status int, code, message string) {
	writeDemoJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}

func writeDemoJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store") // tokens
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// devPusher is dev's Pusher-protocol server, which the demo can stop and
// start again on the same address to show what an outage does: the page
// falls back to polling and no message is lost.
type devPusher struct {
	app     pusherApp
	listen  string // where a restart listens: the asked-for host, the bound port
	addr    string // as clients reach it, e.g. 127.0.0.1:6001
	webhook string
	log     *slog.Logger

	mu     sync.Mutex
	srv    *pusherlocal.Server // nil while stopped
	closed bool
}

// startDevPusher starts the server as startPusher does.
func startDevPusher(app pusherApp, addr, webhookURL string, log *slog.Logger) (*devPusher, error) {
	srv, err := startPusher(app, addr, webhookURL, log)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(addr)
	_, port, _ := net.SplitHostPort(srv.Addr())
	return &devPusher{
		app: app, listen: net.JoinHostPort(host, port), addr: srv.Addr(), webhook: webhookURL, log: log, srv: srv,
	}, nil
}

// Addr is host:port of the server as clients reach it, running or not.
func (p *devPusher) Addr() string { return p.addr }

// Running reports whether the server is up.
func (p *devPusher) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.srv != nil
}

// SetRunning stops the server (closing every connection, as an outage would)
// or starts a new one on the same address. Doing what is already done is
// not an error.
func (p *devPusher) SetRunning(running bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.closed:
		return errors.New("dev is stopping")
	case running && p.srv == nil:
		srv, err := startPusher(p.app, p.listen, p.webhook, p.log)
		if err != nil {
			return err
		}
		p.srv = srv
		p.log.Info("demo: Pusher server started again", "addr", p.addr)
	case !running && p.srv != nil:
		err := p.srv.Close()
		p.srv = nil
		p.log.Info("demo: Pusher server stopped; clients fall back to polling", "addr", p.addr)
		return err
	}
	return nil
}

// Close stops the server for good.
func (p *devPusher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.srv == nil {
		return nil
	}
	err := p.srv.Close()
	p.srv = nil
	return err
}
