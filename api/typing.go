package api

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/httpapi"
)

// Typing serves POST /api/typing.
func Typing(w http.ResponseWriter, r *http.Request) { httpapi.Serve(w, r, httpapi.Typing) }
