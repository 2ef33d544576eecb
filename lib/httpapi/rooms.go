package httpapi

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/chat"
)

func handleListRooms(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit, err := queryInt(r, "limit")
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		q := r.URL.Query()
		res, err := d.Chat.ListRooms(r.Context(), caller(r), chat.ListRoomsInput{Cursor: q.Get("cursor"), Prefix: q.Get("prefix"), Limit: limit})
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		encode(w, http.StatusOK, res)
	})
}

func handleCreateRoom(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[chat.CreateRoomInput](w, r)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		res, err := d.Chat.CreateRoom(r.Context(), caller(r), in)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		encode(w, http.StatusCreated, res)
	})
}

func handleJoinRoom(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[chat.JoinRoomInput](w, r)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		res, err := d.Chat.JoinRoom(r.Context(), caller(r), in)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		encode(w, http.StatusOK, res)
	})
}

func handleLeaveRoom(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[chat.LeaveRoomInput](w, r)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		res, err := d.Chat.LeaveRoom(r.Context(), caller(r), in)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		encode(w, http.StatusOK, res)
	})
}
