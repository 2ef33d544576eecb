package api

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/httpapi"
)

// Rooms serves GET and POST /api/rooms.
func Rooms(w http.ResponseWriter, r *http.Request) { httpapi.Serve(w, r, httpapi.Rooms) }
