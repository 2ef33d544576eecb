package messages

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/httpapi"
)

// MessageHistory serves GET /api/messages/history.
func MessageHistory(w http.ResponseWriter, r *http.Request) { httpapi.Serve(w, r, httpapi.History) }
