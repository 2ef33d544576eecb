package rooms

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/httpapi"
)

// LeaveRoom serves POST /api/rooms/leave.
func LeaveRoom(w http.ResponseWriter, r *http.Request) { httpapi.Serve(w, r, httpapi.LeaveRoom) }
