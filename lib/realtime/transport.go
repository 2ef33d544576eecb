package realtime

import (
	"net/http"
	"time"
)

// idleConnsPerHost is how many idle connections to Pusher a process keeps:
// about as many as publishes it runs at once under load.
const idleConnsPerHost = 64

// NewTransport returns the HTTP transport Pusher calls use when New is given
// none. http.DefaultTransport keeps only 2 idle connections per host, so
// with more concurrent publishes than that most calls dial (and with TLS,
// handshake) anew: about 6-7 % of the server's CPU per message in chatbench.
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 2 * idleConnsPerHost
	t.MaxIdleConnsPerHost = idleConnsPerHost
	t.IdleConnTimeout = 90 * time.Second
	return t
}
