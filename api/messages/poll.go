package messages

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/httpapi"
)

// PollMessages serves GET /api/messages/poll.
func PollMessages(w http.ResponseWriter, r *http.Request) { httpapi.Serve(w, r, httpapi.Poll) }
