package messages

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/httpapi"
)

// ReactToMessage serves POST /api/messages/react.
func ReactToMessage(w http.ResponseWriter, r *http.Request) { httpapi.Serve(w, r, httpapi.React) }
