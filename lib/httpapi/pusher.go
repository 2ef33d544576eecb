package httpapi

import (
	"net/http"
	"net/url"
	"regexp"

	"github.com/chatwire/chatwire/lib/chat"
)

var socketIDPattern = regexp.MustCompile(`\A\d{1,20}\.\d{1,20}\z`)

// handlePusherAuth signs a channel subscription for pusher-js, which posts
// socket_id and channel_name as a form.
func handlePusherAuth(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.Pusher == nil {
			writeError(w, r, d.Log, chat.Errorf(chat.EUNAVAILABLE, "realtime is disabled on this server; use /api/messages/poll"))
			return
		}
		if err := requireContentType(r, "application/x-www-form-urlencoded"); err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		body, err := readBody(w, r, 8<<10)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			writeError(w, r, d.Log, chat.Errorf(chat.EBADREQUEST, "malformed form body"))
			return
		}
		channel, socketID := form.Get("channel_name"), form.Get("socket_id")
		switch {
		case channel == "":
			writeError(w, r, d.Log, chat.FieldError("channel_name", "required"))
			return
		case !socketIDPattern.MatchString(socketID):
			writeError(w, r, d.Log, chat.FieldError("socket_id", "must look like 123.456"))
			return
		}
		grant, err := d.Chat.AuthorizeChannel(r.Context(), caller(r), channel)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		// Sign exactly the two checked fields, whatever else the form carried.
		signed, err := d.Pusher.AuthorizeChannel([]byte(url.Values{"channel_name": {channel}, "socket_id": {socketID}}.Encode()), grant.Presence)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(signed)
	})
}
