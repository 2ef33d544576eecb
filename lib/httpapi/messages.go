package httpapi

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/chat"
)

func handleSend(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[chat.SendInput](w, r)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		res, err := d.Chat.Send(r.Context(), caller(r), in)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		status := http.StatusCreated
		if !res.Created {
			status = http.StatusOK
		}
		encode(w, status, res)
	})
}

func handleHistory(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit, err := queryInt(r, "limit")
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		page, err := d.Chat.History(r.Context(), caller(r), chat.HistoryInput{
			With: q.Get("with"), RoomID: q.Get("room_id"), Before: q.Get("before"), Limit: limit,
		})
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		encode(w, http.StatusOK, page)
	})
}

func handlePoll(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit, err := queryInt(r, "limit")
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		res, err := d.Chat.Poll(r.Context(), caller(r), chat.PollInput{Cursor: r.URL.Query().Get("cursor"), Limit: limit})
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		encode(w, http.StatusOK, res)
	})
}

func handleRead(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[chat.ReadInput](w, r)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		if in.RoomID != "" {
			res, err := d.Chat.MarkRoomRead(r.Context(), caller(r), in)
			if err != nil {
				writeError(w, r, d.Log, err)
				return
			}
			encode(w, http.StatusOK, res)
			return
		}
		res, err := d.Chat.MarkRead(r.Context(), caller(r), in)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		encode(w, http.StatusOK, res)
	})
}

func handleTyping(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[chat.TypingInput](w, r)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		res, err := d.Chat.Typing(r.Context(), caller(r), in)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		encode(w, http.StatusOK, res)
	})
}
