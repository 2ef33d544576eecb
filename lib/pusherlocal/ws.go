package pusherlocal

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

const (
	// outboxSize bounds what a slow client may owe; a client that falls this
	// far behind is disconnected (4100) instead of growing server memory.
	outboxSize   = 256
	writeTimeout = 10 * time.Second
)

// connection is one WebSocket client. Its reader runs in the HTTP handler
// goroutine, its writer in a goroutine of its own; everything it is sent goes
// through outbox so that no publisher ever blocks on a slow socket.
type connection struct {
	srv      *Server
	ws       *websocket.Conn
	socketID string
	outbox   chan []byte

	closing     chan struct{} // closed once the connection is to be closed
	closeOnce   sync.Once
	closeCode   websocket.StatusCode
	closeReason string
	abrupt      bool // close without a close handshake, like a network failure

	lastRead atomic.Int64 // unix nanoseconds of the last frame received

	// subscriptions maps channel name to the presence user id of this
	// socket on it ("" for other channels). Guarded by srv.mu.
	subscriptions map[string]string

	clientEvents clientEventLimiter // used by the reader goroutine only
}

// handleWebSocket serves /app/{key}.
func (s *Server) handleWebSocket(w http.ResponseWriter, r *http.Request) {
	if !s.track() {
		http.Error(w, "server is shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()

	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		// Pusher accepts connections from any origin; the browser app runs
		// on another port than this server in development.
		InsecureSkipVerify: true,
	})
	if err != nil {
		s.log.Debug("websocket handshake failed", "err", err)
		return
	}
	ws.SetReadLimit(hardReadLimitBytes)

	c := &connection{
		srv:           s,
		ws:            ws,
		socketID:      s.newSocketID(),
		outbox:        make(chan []byte, outboxSize),
		closing:       make(chan struct{}),
		subscriptions: make(map[string]string),
		clientEvents:  newClientEventLimiter(),
	}
	c.lastRead.Store(time.Now().UnixNano())

	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()

	if code, reason := s.checkHandshake(r); code != 0 {
		// Pusher sends the error as an event and closes with the same code;
		// pusher-js reads either.
		c.send(errorFrame(code, reason))
		c.closeWith(websocket.StatusCode(code), reason)
	} else if err := s.addConnection(c); errors.Is(err, errOverQuota) {
		c.send(errorFrame(codeOverConnectionQuota, err.Error()))
		c.closeWith(websocket.StatusCode(codeOverConnectionQuota), err.Error())
	} else if err == nil {
		c.send(encodeFrame(outboundFrame{
			Event: eventConnectionEstablished,
			Data: stringData(map[string]any{
				"socket_id":        c.socketID,
				"activity_timeout": s.cfg.announcedActivityTimeout(),
			}),
		}))
		c.readLoop(s.baseCtx)
		s.removeConnection(c)
	} else {
		c.closeWith(closeCodeGoingAway, "server is shutting down")
	}
	c.closeWith(websocket.StatusNormalClosure, "")
	<-writerDone
}

// checkHandshake validates the app key and protocol version of a new
// connection, returning Pusher's error code and message when it is refused.
func (s *Server) checkHandshake(r *http.Request) (code int, reason string) {
	if r.PathValue("key") != s.cfg.Key {
		return codeApplicationNotFound, fmt.Sprintf("Could not find app by key %s", r.PathValue("key"))
	}
	protocol := r.URL.Query().Get("protocol")
	if protocol == "" {
		return codeNoProtocolVersion, "No protocol version supplied"
	}
	version, err := strconv.Atoi(protocol)
	if err != nil {
		return codeInvalidVersionFormat, "Invalid version string format"
	}
	if version < supportedProtocolVersionMin || version > supportedProtocolVersionMax {
		return codeUnsupportedProtocol, fmt.Sprintf("Unsupported protocol version %d", version)
	}
	return 0, ""
}

// send queues a frame for the writer without ever blocking. A client whose
// queue is full is too slow to keep up and is disconnected with 4100, which
// tells pusher-js to reconnect with backoff.
func (c *connection) send(frame []byte) {
	select {
	case <-c.closing:
		return
	default:
	}
	select {
	case c.outbox <- frame:
	default:
		c.closeWith(codeOverCapacity, "Over capacity: client too slow to read its messages")
	}
}

// closeWith asks the writer to close the connection with a code; the first
// call wins.
func (c *connection) closeWith(code websocket.StatusCode, reason string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeReason = code, reason
		close(c.closing)
	})
}

// drop closes the connection without a close handshake, the way a network
// failure or a crashed server would.
func (c *connection) drop() {
	c.closeOnce.Do(func() {
		c.abrupt = true
		close(c.closing)
	})
}

// readLoop handles frames until the connection fails or is closed.
func (c *connection) readLoop(ctx context.Context) {
	for {
		typ, msg, err := c.ws.Read(ctx)
		if err != nil {
			if status := websocket.CloseStatus(err); status == -1 && !errors.Is(err, context.Canceled) {
				c.srv.log.Debug("websocket read ended", "socket_id", c.socketID, "err", err)
			}
			return
		}
		c.lastRead.Store(time.Now().UnixNano())
		if typ != websocket.MessageText {
			c.send(errorFrame(codeMessageRejected, "Binary messages are not supported"))
			continue
		}
		c.srv.handleFrame(c, msg)
	}
}

// writeLoop writes queued frames, pings idle clients and performs the close.
func (c *connection) writeLoop() {
	cfg := c.srv.cfg
	heartbeat := time.NewTimer(cfg.ActivityTimeout)
	defer heartbeat.Stop()
	var pingSentAt time.Time

	for {
		select {
		case frame := <-c.outbox:
			if err := c.write(frame); err != nil {
				c.drop()
				c.ws.CloseNow()
				return
			}
		case <-heartbeat.C:
			lastRead := time.Unix(0, c.lastRead.Load())
			idle := time.Since(lastRead)
			switch {
			case idle < cfg.ActivityTimeout:
				pingSentAt = time.Time{}
				heartbeat.Reset(cfg.ActivityTimeout - idle)
			case pingSentAt.IsZero() || lastRead.After(pingSentAt):
				pingSentAt = time.Now()
				if err := c.write(encodeFrame(outboundFrame{Event: eventPing})); err != nil {
					c.drop()
					c.ws.CloseNow()
					return
				}
				heartbeat.Reset(cfg.PongTimeout)
			default:
				c.closeWith(codePongNotReceived, "Pong reply not received")
			}
		case <-c.closing:
			c.finish()
			return
		}
	}
}

// finish flushes what is already queued (an error frame that explains the
// close, typically) and closes the socket.
func (c *connection) finish() {
	if c.abrupt {
		c.ws.CloseNow()
		return
	}
flush:
	for {
		select {
		case frame := <-c.outbox:
			if err := c.write(frame); err != nil {
				c.ws.CloseNow()
				return
			}
		default:
			break flush
		}
	}
	c.ws.Close(c.closeCode, c.closeReason)
}

func (c *connection) write(frame []byte) error {
	ctx, cancel := context.WithTimeout(c.srv.baseCtx, writeTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, frame); err != nil {
		return fmt.Errorf("write to socket %s: %w", c.socketID, err)
	}
	return nil
}
