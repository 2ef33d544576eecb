package pusherlocal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pusher/pusher-http-go/v5"

	"github.com/chatwire/chatwire/lib/pusherlocal"
)

const (
	testAppID  = "app-1"
	testKey    = "key-1"
	testSecret = "secret-1"
	waitFor    = 2 * time.Second
)

// startServer runs a server on a random loopback port until the test ends.
func startServer(tb testing.TB, adjust func(*pusherlocal.Config)) *pusherlocal.Server {
	tb.Helper()
	cfg := pusherlocal.Config{AppID: testAppID, Key: testKey, Secret: testSecret}
	if adjust != nil {
		adjust(&cfg)
	}
	srv, err := pusherlocal.New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		tb.Fatalf("Start: %v", err)
	}
	tb.Cleanup(func() { srv.Close() })
	return srv
}

// apiClient is the real pusher-http-go client pointed at srv.
func apiClient(srv *pusherlocal.Server) *pusher.Client {
	return &pusher.Client{
		AppID: testAppID, Key: testKey, Secret: testSecret,
		Host: srv.Addr(), Secure: false,
		HTTPClient: &http.Client{Timeout: 5 * time.Second},
	}
}

// frame is a protocol message as a test reads it.
type frame struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
	UserID  string          `json:"user_id"`
}

// dataString decodes data sent as a JSON-encoded string, the way Pusher sends
// channel events, into v.
func (f frame) dataString(tb testing.TB, v any) {
	tb.Helper()
	var s string
	if err := json.Unmarshal(f.Data, &s); err != nil {
		tb.Fatalf("%s data is not a JSON string: %s", f.Event, f.Data)
	}
	if v == nil {
		return
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		tb.Fatalf("%s data string is not JSON: %q", f.Event, s)
	}
}

// errorData is the data of pusher:error.
type errorData struct {
	Code    *int   `json:"code"`
	Message string `json:"message"`
}

// socket is a raw protocol-7 WebSocket client; a background reader queues
// every frame so that tests can wait for one with a deadline without
// cancelling the connection.
type socket struct {
	conn     *websocket.Conn
	frames   chan frame
	closed   chan struct{}
	closeErr error
	socketID string
}

func dialRaw(tb testing.TB, srv *pusherlocal.Server, path string) *socket {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws://"+srv.Addr()+path, nil)
	if err != nil {
		tb.Fatalf("dial %s: %v", path, err)
	}
	conn.SetReadLimit(1 << 20)
	s := &socket{conn: conn, frames: make(chan frame, 1024), closed: make(chan struct{})}
	go func() {
		defer close(s.closed)
		for {
			_, msg, err := conn.Read(context.Background())
			if err != nil {
				s.closeErr = err
				return
			}
			var f frame
			if err := json.Unmarshal(msg, &f); err != nil {
				s.closeErr = fmt.Errorf("server sent invalid JSON %q: %w", msg, err)
				conn.CloseNow()
				return
			}
			s.frames <- f
		}
	}()
	tb.Cleanup(func() { conn.CloseNow() })
	return s
}

// dial connects like pusher-js does and waits for connection_established.
func dial(tb testing.TB, srv *pusherlocal.Server) *socket {
	tb.Helper()
	s := dialRaw(tb, srv, "/app/"+testKey+"?protocol=7&client=js&version=8.6.0&flash=false")
	f := s.expect(tb, "pusher:connection_established")
	var established struct {
		SocketID string `json:"socket_id"`
	}
	f.dataString(tb, &established)
	s.socketID = established.SocketID
	return s
}

func (s *socket) send(tb testing.TB, v any) {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatalf("encode: %v", err)
	}
	s.sendRaw(tb, b)
}

func (s *socket) sendRaw(tb testing.TB, b []byte) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := s.conn.Write(ctx, websocket.MessageText, b); err != nil {
		tb.Fatalf("write: %v", err)
	}
}

// expect returns the next frame named event, failing on anything else
// (pings excepted) or after waitFor.
func (s *socket) expect(tb testing.TB, event string) frame {
	tb.Helper()
	deadline := time.After(waitFor)
	for {
		f, err := s.receive(deadline)
		if err != nil {
			tb.Fatalf("%v while waiting for %s", err, event)
		}
		if f.Event == "pusher:ping" && event != "pusher:ping" {
			continue
		}
		if f.Event != event {
			tb.Fatalf("got %s %s %s, want %s", f.Event, f.Channel, f.Data, event)
		}
		return f
	}
}

// receive returns the next frame. Frames the server sent before it closed
// the connection come first: the reader queues every frame before it closes
// s.closed, but a select over both channels would pick either.
func (s *socket) receive(deadline <-chan time.Time) (frame, error) {
	select {
	case f := <-s.frames:
		return f, nil
	case <-s.closed:
		select {
		case f := <-s.frames:
			return f, nil
		default:
			return frame{}, fmt.Errorf("connection closed (%v)", s.closeErr)
		}
	case <-deadline:
		return frame{}, fmt.Errorf("nothing within %s", waitFor)
	}
}

// next returns the next frame, whatever it is.
func (s *socket) next(tb testing.TB) frame {
	tb.Helper()
	f, err := s.receive(time.After(waitFor))
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// expectError waits for a pusher:error and returns its data.
func (s *socket) expectError(tb testing.TB) errorData {
	tb.Helper()
	f := s.expect(tb, "pusher:error")
	var d errorData
	if err := json.Unmarshal(f.Data, &d); err != nil {
		tb.Fatalf("pusher:error data %s: %v", f.Data, err)
	}
	return d
}

// expectNothing fails if a frame other than a ping arrives within d.
func (s *socket) expectNothing(tb testing.TB, d time.Duration) {
	tb.Helper()
	deadline := time.After(d)
	for {
		select {
		case f := <-s.frames:
			if f.Event != "pusher:ping" {
				tb.Fatalf("unexpected %s %s %s", f.Event, f.Channel, f.Data)
			}
		case <-deadline:
			return
		}
	}
}

// expectClosed waits for the server to close the connection and returns
// the close status.
func (s *socket) expectClosed(tb testing.TB) websocket.StatusCode {
	tb.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case <-s.frames:
		case <-s.closed:
			return websocket.CloseStatus(s.closeErr)
		case <-deadline:
			tb.Fatalf("connection still open after %s", waitFor)
		}
	}
}

// alive proves the connection still works: a ping gets its pong.
func (s *socket) alive(tb testing.TB) {
	tb.Helper()
	s.send(tb, map[string]any{"event": "pusher:ping", "data": map[string]any{}})
	s.expect(tb, "pusher:pong")
}

// subscribe sends pusher:subscribe and waits for subscription_succeeded.
func (s *socket) subscribe(tb testing.TB, channel, auth, channelData string) frame {
	tb.Helper()
	s.sendSubscribe(tb, channel, auth, channelData)
	f := s.expect(tb, "pusher_internal:subscription_succeeded")
	if got, want := f.Channel, channel; got != want {
		tb.Fatalf("subscription_succeeded channel = %q, want %q", got, want)
	}
	return f
}

func (s *socket) sendSubscribe(tb testing.TB, channel, auth, channelData string) {
	tb.Helper()
	data := map[string]string{"channel": channel}
	if auth != "" {
		data["auth"] = auth
	}
	if channelData != "" {
		data["channel_data"] = channelData
	}
	s.send(tb, map[string]any{"event": "pusher:subscribe", "data": data})
}

// authorization is the JSON an app's auth endpoint answers.
type authorization struct {
	Auth        string `json:"auth"`
	ChannelData string `json:"channel_data"`
}

// authorize signs a subscription with pusher-http-go, as the app would.
func authorize(tb testing.TB, client *pusher.Client, socketID, channel string, member *pusher.MemberData) authorization {
	tb.Helper()
	params := []byte(url.Values{"socket_id": {socketID}, "channel_name": {channel}}.Encode())
	var (
		body []byte
		err  error
	)
	if strings.HasPrefix(channel, "presence-") {
		body, err = client.AuthorizePresenceChannel(params, *member)
	} else {
		body, err = client.AuthorizePrivateChannel(params)
	}
	if err != nil {
		tb.Fatalf("authorize %s: %v", channel, err)
	}
	var a authorization
	if err := json.Unmarshal(body, &a); err != nil {
		tb.Fatalf("decode authorization: %v", err)
	}
	return a
}

// subscribeAuthorized subscribes through pusher-http-go's signature.
func (s *socket) subscribeAuthorized(tb testing.TB, client *pusher.Client, channel string, member *pusher.MemberData) frame {
	tb.Helper()
	a := authorize(tb, client, s.socketID, channel, member)
	return s.subscribe(tb, channel, a.Auth, a.ChannelData)
}
