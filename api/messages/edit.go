package messages

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/httpapi"
)

// EditMessage serves POST /api/messages/edit.
func EditMessage(w http.ResponseWriter, r *http.Request) { httpapi.Serve(w, r, httpapi.Edit) }
