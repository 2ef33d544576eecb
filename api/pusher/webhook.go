package pusher

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/httpapi"
)

// PusherWebhook serves POST /api/pusher/webhook.
func PusherWebhook(w http.ResponseWriter, r *http.Request) {
	httpapi.Serve(w, r, httpapi.PusherWebhook)
}
