package api

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/httpapi"
)

// Presence serves GET /api/presence.
func Presence(w http.ResponseWriter, r *http.Request) { httpapi.Serve(w, r, httpapi.Presence) }
