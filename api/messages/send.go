package messages

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/httpapi"
)

// SendMessage serves POST /api/messages/send.
func SendMessage(w http.ResponseWriter, r *http.Request) { httpapi.Serve(w, r, httpapi.Send) }
