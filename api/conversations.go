package api

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/httpapi"
)

// Conversations serves GET /api/conversations.
func Conversations(w http.ResponseWriter, r *http.Request) {
	httpapi.Serve(w, r, httpapi.Conversations)
}
