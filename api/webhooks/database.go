package webhooks

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/httpapi"
)

// DatabaseWebhook serves POST /api/webhooks/database.
func DatabaseWebhook(w http.ResponseWriter, r *http.Request) {
	httpapi.Serve(w, r, httpapi.DatabaseWebhook)
}
