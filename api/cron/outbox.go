package cron

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/httpapi"
)

// CronOutbox serves GET /api/cron/outbox.
func CronOutbox(w http.ResponseWriter, r *http.Request) { httpapi.Serve(w, r, httpapi.CronOutbox) }
