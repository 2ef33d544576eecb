package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/chatwire/chatwire/lib/httpapi"
)

// shutdownTimeout is how long in-flight requests get to finish after a
// stop signal: longer than any handler's deadline, shorter than the 30 s
// most platforms wait before SIGKILL.
const shutdownTimeout = 15 * time.Second

// newHTTPServer wraps the API's handler in a server with timeouts, so that
// slow or idle clients cannot hold connections forever on a public port.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	budget := longestHandlerTimeout()
	return &http.Server{
		Handler: h,
		// Headers come first and are small; a client that dribbles them is
		// a slowloris, not a user.
		ReadHeaderTimeout: 10 * time.Second,
		// Bodies are small (Vercel caps them at 4.5 MB); allow a slow link.
		ReadTimeout: 30 * time.Second,
		// Past every handler's own deadline, so handlers answer with their
		// timeout error rather than having the connection cut under them.
		WriteTimeout:   budget + 10*time.Second,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// longestHandlerTimeout is the largest deadline of any route.
func longestHandlerTimeout() time.Duration {
	longest := httpapi.DefaultTimeout
	for _, route := range httpapi.Routes() {
		longest = max(longest, route.Timeout)
	}
	return longest
}

// serveHTTP serves h on ln until ctx ends, then stops accepting connections
// and waits up to shutdownTimeout for in-flight requests. ln is closed when
// it returns.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := newHTTPServer(h, log)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "addr", ln.Addr().String())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	if err != nil {
		srv.Close() // requests that outlived the grace period are cut
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// reachableHostPort is addr as a client on this machine dials it: a wildcard
// listen address (":3000", "[::]:3000") becomes 127.0.0.1.
func reachableHostPort(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	host := tcp.IP.String()
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}

// baseURL is the http:// URL of a listener, for banners and webhooks.
func baseURL(addr net.Addr) string {
	return "http://" + reachableHostPort(addr)
}
