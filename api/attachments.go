package api

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/httpapi"
)

// RequestUpload serves POST /api/attachments.
func RequestUpload(w http.ResponseWriter, r *http.Request) { httpapi.Serve(w, r, httpapi.Attachments) }
