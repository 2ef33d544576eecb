package messages

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/httpapi"
)

// MarkRead serves POST /api/messages/read.
func MarkRead(w http.ResponseWriter, r *http.Request) { httpapi.Serve(w, r, httpapi.Read) }
