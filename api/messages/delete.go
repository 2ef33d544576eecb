package messages

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/httpapi"
)

// DeleteMessage serves POST /api/messages/delete.
func DeleteMessage(w http.ResponseWriter, r *http.Request) { httpapi.Serve(w, r, httpapi.Delete) }
