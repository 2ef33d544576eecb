package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/chatwire/chatwire/lib/auth"
	"github.com/chatwire/chatwire/lib/chat"
)

// chatwireSystem drives chatwire the way its browsers do: senders POST
// /api/messages/send, receivers hold a Pusher-protocol WebSocket and
// subscribe to their private-chat-* channel through /api/pusher/auth.
type chatwireSystem struct {
	app        string // base URL
	pusherAddr string // host:port
	pusherKey  string
	jwtSecret  string
	client     *http.Client
	pid        int // 0 for an external chatwire
	// sendURL is where senders POST; chatwire's /api/messages/send unless
	// another system (the Next.js route peer) takes the sends while chatwire
	// still signs the subscriptions.
	sendURL string
	// label names another system sending through sendURL ("" is chatwire);
	// extraPIDs are processes whose CPU counts as its server's.
	label     string
	extraPIDs []int
	// shed counts the 429 and 503 answers retried after Retry-After.
	shed atomic.Int64
}

func newChatwireSystem(app, pusherAddr, key, jwtSecret string, inflight, pid int) *chatwireSystem {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConns = inflight + 64
	transport.MaxIdleConnsPerHost = inflight + 64
	app = strings.TrimRight(app, "/")
	return &chatwireSystem{
		app: app, pusherAddr: pusherAddr, pusherKey: key, jwtSecret: jwtSecret,
		client: &http.Client{Transport: transport, Timeout: 30 * time.Second}, pid: pid,
		sendURL: app + "/api/messages/send",
	}
}

func (c *chatwireSystem) name() string {
	if c.label != "" {
		return c.label
	}
	return "chatwire"
}
func (c *chatwireSystem) serverPID() int   { return c.pid }
func (c *chatwireSystem) otherPIDs() []int { return c.extraPIDs }
func (c *chatwireSystem) shedCount() int64 { return c.shed.Load() }
func (c *chatwireSystem) dbApp() string    { return c.name() }
func (c *chatwireSystem) close()           { c.client.CloseIdleConnections() }

func (c *chatwireSystem) token(user string) (string, error) {
	return auth.SignHS256(c.jwtSecret, auth.User{ID: user, Name: user}, 2*time.Hour)
}

// errUnpublished is a send that chatwire saved but could not hand to Pusher
// ("published": false): the outbox would redeliver it, later than the grace.
var errUnpublished = errors.New("saved but not published")

type httpSender struct {
	sys           *chatwireSystem
	authorization string
}

func (c *chatwireSystem) newSender(_ context.Context, user string) (sender, error) {
	tok, err := c.token(user)
	if err != nil {
		return nil, err
	}
	return &httpSender{sys: c, authorization: "Bearer " + tok}, nil
}

// send posts the message; a 429 or 503 with Retry-After is retried after
// that wait with the same client_id, as chatwire's client library does, for
// as long as ctx lasts.
func (s *httpSender) send(ctx context.Context, to, clientID, body string) error {
	payload, _ := json.Marshal(map[string]string{"to": to, "body": body, "client_id": clientID})
	for {
		status, retryAfter, answer, err := s.post(ctx, payload)
		if err != nil {
			return err
		}
		if (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) && retryAfter > 0 {
			s.sys.shed.Add(1)
			select {
			case <-time.After(retryAfter):
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		// 200: a retry found the message stored by an earlier attempt.
		if status != http.StatusCreated && status != http.StatusOK {
			return fmt.Errorf("send: status %d: %.200s", status, answer)
		}
		if bytes.Contains(answer, []byte(`"published":false`)) {
			return errUnpublished
		}
		return nil
	}
}

func (s *httpSender) post(ctx context.Context, payload []byte) (status int, retryAfter time.Duration, answer []byte, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.sys.sendURL, bytes.NewReader(payload))
	if err != nil {
		return 0, 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", s.authorization)
	res, err := s.sys.client.Do(req)
	if err != nil {
		return 0, 0, nil, err
	}
	defer res.Body.Close()
	answer, _ = io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if secs, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && secs > 0 {
		retryAfter = time.Duration(secs) * time.Second
	}
	return res.StatusCode, retryAfter, answer, nil
}

func (s *httpSender) Close() error { return nil }

// pusherFrame is a Pusher protocol message; data is a JSON string.
type pusherFrame struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel,omitempty"`
	Data    json.RawMessage `json:"data"`
}

// pusherReceiver is one WebSocket to the Pusher-protocol server.
type pusherReceiver struct {
	conn   *websocket.Conn
	cancel context.CancelFunc
	done   chan struct{}
}

// connectReceiver connects user and subscribes to its chats with from; every
// new-message calls onMsg with the message's client_id and arrival time.
func (c *chatwireSystem) connectReceiver(ctx context.Context, user string, from []string, onMsg func(string, time.Time)) (io.Closer, error) {
	connCtx, cancel := context.WithCancel(context.Background())
	dialCtx, dialCancel := context.WithTimeout(ctx, 30*time.Second)
	defer dialCancel()
	conn, _, err := websocket.Dial(dialCtx, "ws://"+c.pusherAddr+"/app/"+c.pusherKey+"?protocol=7&client=chatbench&version=1", nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("pusher: dial: %w", err)
	}
	r := &pusherReceiver{conn: conn, cancel: cancel, done: make(chan struct{})}
	established, err := readFrame(dialCtx, conn)
	if err != nil || established.Event != "pusher:connection_established" {
		cancel()
		conn.CloseNow()
		return nil, fmt.Errorf("pusher: no connection_established: %v", err)
	}
	var info struct {
		SocketID string `json:"socket_id"`
	}
	if err := unmarshalData(established.Data, &info); err != nil {
		cancel()
		conn.CloseNow()
		return nil, fmt.Errorf("pusher: connection_established: %w", err)
	}
	for _, peer := range from {
		if err := c.subscribe(dialCtx, conn, info.SocketID, user, chat.ChatChannel(user, peer)); err != nil {
			cancel()
			conn.CloseNow()
			return nil, err
		}
	}
	go r.read(connCtx, onMsg)
	return r, nil
}

// subscribe signs the channel through chatwire's /api/pusher/auth and waits
// for subscription_succeeded.
func (c *chatwireSystem) subscribe(ctx context.Context, conn *websocket.Conn, socketID, user, channel string) error {
	tok, err := c.token(user)
	if err != nil {
		return err
	}
	form := url.Values{"socket_id": {socketID}, "channel_name": {channel}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.app+"/api/pusher/auth", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("pusher auth: %w", err)
	}
	defer res.Body.Close()
	var signed struct {
		Auth string `json:"auth"`
	}
	if res.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return fmt.Errorf("pusher auth: status %d: %s", res.StatusCode, raw)
	}
	if err := json.NewDecoder(res.Body).Decode(&signed); err != nil {
		return fmt.Errorf("pusher auth: %w", err)
	}
	sub, _ := json.Marshal(map[string]any{"event": "pusher:subscribe",
		"data": map[string]string{"channel": channel, "auth": signed.Auth}})
	if err := conn.Write(ctx, websocket.MessageText, sub); err != nil {
		return fmt.Errorf("pusher: subscribe: %w", err)
	}
	for {
		f, err := readFrame(ctx, conn)
		if err != nil {
			return fmt.Errorf("pusher: subscribe %s: %w", channel, err)
		}
		switch f.Event {
		case "pusher_internal:subscription_succeeded":
			return nil
		case "pusher:subscription_error", "pusher:error":
			return fmt.Errorf("pusher: %s: %s", f.Event, f.Data)
		}
	}
}

func (r *pusherReceiver) read(ctx context.Context, onMsg func(string, time.Time)) {
	defer close(r.done)
	for {
		_, raw, err := r.conn.Read(ctx)
		at := time.Now()
		if err != nil {
			return
		}
		var f pusherFrame
		if json.Unmarshal(raw, &f) != nil {
			continue
		}
		switch f.Event {
		case "new-message":
			var m struct {
				ClientID string `json:"client_id"`
			}
			if unmarshalData(f.Data, &m) == nil {
				onMsg(m.ClientID, at)
			}
		case "pusher:ping":
			_ = r.conn.Write(ctx, websocket.MessageText, []byte(`{"event":"pusher:pong","data":{}}`))
		}
	}
}

func (r *pusherReceiver) Close() error {
	r.cancel()
	r.conn.CloseNow()
	<-r.done
	return nil
}

func readFrame(ctx context.Context, conn *websocket.Conn) (pusherFrame, error) {
	var f pusherFrame
	_, raw, err := conn.Read(ctx)
	if err != nil {
		return f, err
	}
	return f, json.Unmarshal(raw, &f)
}

// unmarshalData decodes a Pusher data field, which is a JSON string holding
// JSON (or, from some servers, the object itself).
func unmarshalData(data json.RawMessage, v any) error {
	var s string
	if json.Unmarshal(data, &s) == nil {
		return json.Unmarshal([]byte(s), v)
	}
	return json.Unmarshal(data, v)
}
