package api

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/httpapi"
)

// Health serves GET /api/health.
func Health(w http.ResponseWriter, r *http.Request) { httpapi.Serve(w, r, httpapi.Health) }
