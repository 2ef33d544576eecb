package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"sync"
)

// process holds the dependencies of one serverless function instance. They
// are built on the first request, not at start, so a cold start costs only
// what the request needs, and reused while the instance lives.
// discardLogger: the configuration error was logged once, at first use.
var discardLogger = slog.New(slog.DiscardHandler)

var process struct {
	once sync.Once
	deps *Deps
	err  error
}

// Serve answers one request of a Vercel function with the given route. A
// misconfigured environment fails the request with an error naming the
// variable.
func Serve(w http.ResponseWriter, r *http.Request, route *Route) {
	process.once.Do(func() {
		log := NewLogger(os.Stderr)
		process.deps, process.err = processDeps(context.Background(), os.Getenv, log)
		if process.err != nil {
			log.Error("configuration", "err", process.err)
		}
	})
	if process.err != nil {
		withRequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The message names the variable; config errors never carry its value.
			writeError(w, r, discardLogger, apiError(http.StatusInternalServerError, "internal", "server misconfigured: "+process.err.Error()))
		})).ServeHTTP(w, r)
		return
	}
	route.Handler(process.deps).ServeHTTP(w, r)
}
