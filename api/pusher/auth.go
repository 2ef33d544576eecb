package pusher

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/httpapi"
)

// PusherAuth serves POST /api/pusher/auth.
func PusherAuth(w http.ResponseWriter, r *http.Request) { httpapi.Serve(w, r, httpapi.PusherAuth) }
