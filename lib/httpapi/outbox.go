package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/chatwire/chatwire/lib/chat"
)

// handleDatabaseWebhook takes a Supabase database webhook for a row another
// writer stored and publishes the events the triggers wrote for it.
func handleDatabaseWebhook(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkBearerSecret(r, d.Config.DBWebhookSecret, "DB_WEBHOOK_SECRET"); err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		hook, err := decode[chat.DatabaseWebhook](w, r)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		res, err := d.Chat.RelayDatabaseWebhook(r.Context(), hook)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		encode(w, http.StatusOK, res)
	})
}

// handleCronOutbox is the Vercel cron: it republishes what never reached
// Pusher, trims the event log and removes uploads never sent.
func handleCronOutbox(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkBearerSecret(r, d.Config.CronSecret, "CRON_SECRET"); err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		res, err := d.Chat.RedeliverOutbox(r.Context())
		// Uploads never sent are removed even when Pusher is down.
		files, sweepErr := d.Chat.SweepFiles(r.Context(), time.Now())
		if err = errors.Join(err, sweepErr); err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		encode(w, http.StatusOK, struct {
			chat.OutboxResult
			FilesRemoved int `json:"files_removed"`
		}{res, files.Removed})
	})
}

// checkBearerSecret compares the request's bearer token with a shared secret
// in constant time. Both sides are hashed first, so not even the secret's
// length leaks through timing. An unset secret refuses every request (503
// naming the variable): an open webhook would let anyone trigger work.
func checkBearerSecret(r *http.Request, secret, variable string) error {
	if secret == "" {
		return chat.Errorf(chat.EUNAVAILABLE, "%s is not set on this server", variable)
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	want := sha256.Sum256([]byte(secret))
	have := sha256.Sum256([]byte(got))
	if !ok || subtle.ConstantTimeCompare(want[:], have[:]) != 1 {
		return apiError(http.StatusUnauthorized, chat.EUNAUTHORIZED, "a valid bearer secret is required")
	}
	return nil
}
