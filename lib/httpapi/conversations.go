package httpapi

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/chat"
)

func handleConversations(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit, err := queryInt(r, "limit")
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		page, err := d.Chat.Conversations(r.Context(), caller(r), chat.ConversationsInput{
			Before: r.URL.Query().Get("before"), Limit: limit,
		})
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		encode(w, http.StatusOK, page)
	})
}

func handleEdit(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[chat.EditInput](w, r)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		res, err := d.Chat.Edit(r.Context(), caller(r), in)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		encode(w, http.StatusOK, res)
	})
}

func handleDelete(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[chat.DeleteInput](w, r)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		res, err := d.Chat.Delete(r.Context(), caller(r), in)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		encode(w, http.StatusOK, res)
	})
}

func handleReact(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[chat.ReactInput](w, r)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		res, err := d.Chat.React(r.Context(), caller(r), in)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		encode(w, http.StatusOK, res)
	})
}
