package rooms

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/httpapi"
)

// JoinRoom serves POST /api/rooms/join.
func JoinRoom(w http.ResponseWriter, r *http.Request) { httpapi.Serve(w, r, httpapi.JoinRoom) }
