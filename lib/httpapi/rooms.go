package httpapi

import "net/http"

// TODO(rooms): replaced by the rooms work of issue 4.
func handleListRooms(d *Deps) http.Handler  { return notYet(d) }
func handleCreateRoom(d *Deps) http.Handler { return notYet(d) }
func handleJoinRoom(d *Deps) http.Handler   { return notYet(d) }
func handleLeaveRoom(d *Deps) http.Handler  { return notYet(d) }
