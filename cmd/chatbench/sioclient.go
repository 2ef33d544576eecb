package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/chatwire/chatwire/lib/auth"
)

// peerSystem drives the Socket.IO peer (bench/socketio/server.mjs) through
// its own protocol. The client speaks Engine.IO v4 / Socket.IO v5 over a
// WebSocket itself, so both systems are measured by the same Go harness with
// the same clocks: text frames "0{open}" from the server, "40{auth}" to
// connect to the default namespace, "2"/"3" ping and pong, "42[event,data]"
// events and "42<id>[...]"/"43<id>[...]" an event with its acknowledgement.
type peerSystem struct {
	addr      string // host:port
	jwtSecret string
	pid       int
}

func (p *peerSystem) name() string   { return "socket.io" }
func (p *peerSystem) serverPID() int { return p.pid }
func (p *peerSystem) dbApp() string  { return "socketio-peer" }
func (p *peerSystem) close()         {}

func (p *peerSystem) dial(ctx context.Context, user string, onMsg func(string, time.Time)) (*sioConn, error) {
	tok, err := auth.SignHS256(p.jwtSecret, auth.User{ID: user, Name: user}, 2*time.Hour)
	if err != nil {
		return nil, err
	}
	return dialSocketIO(ctx, p.addr, tok, onMsg)
}

func (p *peerSystem) connectReceiver(ctx context.Context, user string, _ []string, onMsg func(string, time.Time)) (io.Closer, error) {
	return p.dial(ctx, user, onMsg)
}

func (p *peerSystem) newSender(ctx context.Context, user string) (sender, error) {
	return p.dial(ctx, user, nil)
}

// sioConn is one Socket.IO connection to the default namespace.
type sioConn struct {
	conn   *websocket.Conn
	cancel context.CancelFunc
	done   chan struct{}
	onMsg  func(string, time.Time)

	nextAck atomic.Uint64
	mu      sync.Mutex
	acks    map[uint64]chan json.RawMessage
}

func dialSocketIO(ctx context.Context, addr, token string, onMsg func(string, time.Time)) (*sioConn, error) {
	dialCtx, dialCancel := context.WithTimeout(ctx, 30*time.Second)
	defer dialCancel()
	conn, _, err := websocket.Dial(dialCtx, "ws://"+addr+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		return nil, fmt.Errorf("socket.io: dial: %w", err)
	}
	fail := func(err error) (*sioConn, error) {
		conn.CloseNow()
		return nil, fmt.Errorf("socket.io: %w", err)
	}
	_, open, err := conn.Read(dialCtx)
	if err != nil || len(open) == 0 || open[0] != '0' {
		return fail(fmt.Errorf("no open packet: %v", err))
	}
	authPayload, _ := json.Marshal(map[string]string{"token": token})
	if err := conn.Write(dialCtx, websocket.MessageText, append([]byte("40"), authPayload...)); err != nil {
		return fail(err)
	}
	for {
		_, raw, err := conn.Read(dialCtx)
		if err != nil {
			return fail(err)
		}
		s := string(raw)
		if s == "2" {
			_ = conn.Write(dialCtx, websocket.MessageText, []byte("3"))
			continue
		}
		if len(s) >= 2 && s[:2] == "44" {
			return fail(fmt.Errorf("connect refused: %s", s[2:]))
		}
		if len(s) >= 2 && s[:2] == "40" {
			break
		}
	}
	connCtx, cancel := context.WithCancel(context.Background())
	c := &sioConn{conn: conn, cancel: cancel, done: make(chan struct{}), onMsg: onMsg, acks: map[uint64]chan json.RawMessage{}}
	go c.read(connCtx)
	return c, nil
}

func (c *sioConn) read(ctx context.Context) {
	defer close(c.done)
	for {
		_, raw, err := c.conn.Read(ctx)
		at := time.Now()
		if err != nil {
			return
		}
		s := string(raw)
		switch {
		case s == "2":
			_ = c.conn.Write(ctx, websocket.MessageText, []byte("3"))
		case len(s) > 2 && s[:2] == "42":
			var ev []json.RawMessage
			if json.Unmarshal(raw[2:], &ev) != nil || len(ev) < 2 || c.onMsg == nil {
				continue
			}
			var name string
			var m struct {
				ClientID string `json:"client_id"`
			}
			if json.Unmarshal(ev[0], &name) == nil && name == "new-message" && json.Unmarshal(ev[1], &m) == nil {
				c.onMsg(m.ClientID, at)
			}
		case len(s) > 2 && s[:2] == "43":
			i := 2
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
			id, err := strconv.ParseUint(s[2:i], 10, 64)
			if err != nil {
				continue
			}
			c.mu.Lock()
			ch := c.acks[id]
			delete(c.acks, id)
			c.mu.Unlock()
			if ch != nil {
				ch <- json.RawMessage(s[i:])
			}
		}
	}
}

// send emits "send" with an acknowledgement and waits for it: the peer acks
// after saving the message and emitting it, as chatwire answers after saving
// and publishing.
func (c *sioConn) send(ctx context.Context, to, clientID, body string) error {
	id := c.nextAck.Add(1)
	ch := make(chan json.RawMessage, 1)
	c.mu.Lock()
	c.acks[id] = ch
	c.mu.Unlock()
	payload, _ := json.Marshal(map[string]string{"to": to, "body": body, "client_id": clientID})
	frame := append([]byte("42"+strconv.FormatUint(id, 10)+`["send",`), payload...)
	frame = append(frame, ']')
	if err := c.conn.Write(ctx, websocket.MessageText, frame); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	select {
	case raw := <-ch:
		var args []struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(raw, &args); err != nil || len(args) == 0 {
			return fmt.Errorf("socket.io: bad ack %.200s", raw)
		}
		if args[0].Error != "" {
			return errors.New("socket.io: " + args[0].Error)
		}
		return nil
	case <-c.done:
		return errors.New("socket.io: connection closed")
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.acks, id)
		c.mu.Unlock()
		return ctx.Err()
	}
}

func (c *sioConn) Close() error {
	c.cancel()
	c.conn.CloseNow()
	<-c.done
	return nil
}
