package pusherlocal

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// shutdownGrace is how long Close waits for clients to complete the
// WebSocket close handshake before cutting the remaining connections.
const shutdownGrace = 2 * time.Second

// Server is a Pusher Channels protocol server for one app. It is an
// http.Handler; Start also runs it on a listener of its own.
type Server struct {
	cfg Config
	log *slog.Logger
	mux *http.ServeMux

	// baseCtx ends every connection and the webhook worker when cancelled.
	baseCtx    context.Context
	cancelBase context.CancelFunc
	wg         sync.WaitGroup // connections, the webhook worker, the listener

	socketPrefix uint64
	socketSeq    atomic.Uint64

	mu       sync.RWMutex // guards conns, channels, closed and webhook tracking
	conns    map[*connection]struct{}
	channels map[string]*channel
	closed   bool
	webhooks *webhooks

	httpServer *http.Server
	listener   net.Listener
	closeOnce  sync.Once
	closeErr   error
}

// New validates cfg and returns a server ready to serve requests. Its webhook
// worker runs until Close.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	var seed [8]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return nil, fmt.Errorf("pusherlocal: seed socket ids: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:          cfg,
		log:          cfg.Logger.With("component", "pusherlocal"),
		baseCtx:      ctx,
		cancelBase:   cancel,
		socketPrefix: binary.BigEndian.Uint64(seed[:]) % 1_000_000_000,
		conns:        make(map[*connection]struct{}),
		channels:     make(map[string]*channel),
	}
	s.webhooks = newWebhooks(s)
	if s.webhooks != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.webhooks.run()
		}()
	}
	s.mux = s.routes()
	return s, nil
}

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /app/{key}", s.handleWebSocket)
	mux.Handle("POST /apps/{app}/events", s.signed(s.handleTriggerEvent))
	mux.Handle("POST /apps/{app}/batch_events", s.signed(s.handleTriggerBatch))
	mux.Handle("GET /apps/{app}/channels", s.signed(s.handleListChannels))
	mux.Handle("GET /apps/{app}/channels/{channel}", s.signed(s.handleGetChannel))
	mux.Handle("GET /apps/{app}/channels/{channel}/users", s.signed(s.handleGetChannelUsers))
	// A plain answer on / lets scripts wait for the server to be up.
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "pusherlocal: Pusher Channels protocol server")
	})
	return mux
}

// ServeHTTP serves the WebSocket endpoint /app/{key} and the HTTP API under
// /apps/{app_id}/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves in the
// background until Close. It returns once the listener is bound, so Addr is
// valid right after it.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("pusherlocal: listen on %s: %w", addr, err)
	}
	s.mu.Lock()
	if s.closed || s.httpServer != nil {
		s.mu.Unlock()
		ln.Close()
		return errors.New("pusherlocal: Start called on a closed or started server")
	}
	s.listener = ln
	s.httpServer = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.wg.Add(1)
	s.mu.Unlock()

	go func() {
		defer s.wg.Done()
		if err := s.httpServer.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "err", err)
		}
	}()
	return nil
}

// Addr is the host:port the server listens on after Start, usable as
// pusher-http-go's Host and pusher-js's wsHost:wsPort. A wildcard listen
// address (":6001") is reported as 127.0.0.1. Empty before Start.
func (s *Server) Addr() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.listener == nil {
		return ""
	}
	tcp, ok := s.listener.Addr().(*net.TCPAddr)
	if !ok {
		return s.listener.Addr().String()
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}

// DropConnections cuts every WebSocket connection without a close handshake,
// as a network failure would. It is meant for fault tests: clients such as
// pusher-js are expected to reconnect and resubscribe by themselves.
func (s *Server) DropConnections() {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for c := range s.conns {
		c.drop()
	}
}

// Close closes every connection (1001, going away), stops the listener, the
// webhook worker and pending delayed webhooks, and returns once all of the
// server's goroutines have ended. Webhooks still queued are not delivered.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		for c := range s.conns {
			c.closeWith(closeCodeGoingAway, "server is shutting down")
		}
		s.webhooks.stop()
		httpServer := s.httpServer
		s.mu.Unlock()

		if httpServer != nil {
			// Close, not Shutdown: hijacked WebSocket connections are ours
			// to end, and idle keep-alive connections should go at once.
			if err := httpServer.Close(); err != nil {
				s.closeErr = fmt.Errorf("pusherlocal: close listener: %w", err)
			}
		}

		finished := make(chan struct{})
		go func() {
			s.wg.Wait()
			close(finished)
		}()
		select {
		case <-finished:
			s.cancelBase()
		case <-time.After(shutdownGrace):
			// Clients that do not answer the close handshake are cut.
			s.cancelBase()
			<-finished
		}
	})
	return s.closeErr
}

// track registers a request that will run a connection; false once the
// server is closed.
func (s *Server) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// newSocketID returns a Pusher-style socket id, "digits.digits".
func (s *Server) newSocketID() string {
	return strconv.FormatUint(s.socketPrefix, 10) + "." + strconv.FormatUint(s.socketSeq.Add(1), 10)
}
