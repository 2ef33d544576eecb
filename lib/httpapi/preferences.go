package httpapi

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/chat"
)

func handleGetPreferences(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := d.Chat.Preferences(r.Context(), caller(r))
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		encode(w, http.StatusOK, res)
	})
}

func handlePutPreferences(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[chat.PreferencesInput](w, r)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		res, err := d.Chat.SetPreferences(r.Context(), caller(r), in)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		encode(w, http.StatusOK, res)
	})
}
