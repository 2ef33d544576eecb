package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/realtime"
)

// handlePresence answers GET /api/presence?user_ids=a,b for a page's first paint.
func handlePresence(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := d.Chat.Presence(r.Context(), caller(r), chat.PresenceInput{UserIDs: r.URL.Query().Get("user_ids")})
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		encode(w, http.StatusOK, res)
	})
}

// handlePusherWebhook takes Pusher's channel and member webhooks, checked by
// X-Pusher-Key and X-Pusher-Signature, and turns presence-user-* occupancy
// into online status. Pusher retries a webhook that does not get a 2xx, and a
// retry changes nothing that the first delivery applied.
func handlePusherWebhook(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.Pusher == nil {
			writeError(w, r, d.Log, chat.Errorf(chat.EUNAVAILABLE, "realtime is disabled on this server"))
			return
		}
		body, err := readBody(w, r, MaxJSONBody)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		hook, err := d.Pusher.Webhook(r.Header, body)
		if errors.Is(err, realtime.ErrBadWebhook) {
			writeError(w, r, d.Log, apiError(http.StatusUnauthorized, chat.EUNAUTHORIZED, "webhook key or signature invalid"))
			return
		}
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		at := time.UnixMilli(int64(hook.TimeMs))
		if hook.TimeMs <= 0 {
			at = time.Now()
		}
		events := make([]chat.WebhookEvent, len(hook.Events))
		for i, e := range hook.Events {
			events[i] = chat.WebhookEvent{Name: e.Name, Channel: e.Channel}
		}
		res, err := d.Chat.ApplyPresenceWebhook(r.Context(), at, events)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		encode(w, http.StatusOK, res)
	})
}
