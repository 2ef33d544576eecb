package httpapi

import (
	"context"
	"net/http"
	"time"
)

func handleHealth(d *Deps) http.Handler {
	type answer struct {
		OK       bool   `json:"ok"`
		Database string `json:"database"`
		Pusher   string `json:"pusher"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		a := answer{OK: true, Database: "ok", Pusher: "disabled"}
		if err := d.Chat.Health(ctx); err != nil {
			d.Log.WarnContext(ctx, "health: database", "err", err)
			a.OK, a.Database = false, "error"
		}
		if d.Pusher != nil {
			a.Pusher = "ok"
			if err := d.Pusher.Check(ctx); err != nil {
				// Pusher down is degraded, not down: sends still succeed and poll delivers.
				d.Log.WarnContext(ctx, "health: pusher", "err", err)
				a.Pusher = "error"
			}
		}
		status := http.StatusOK
		if !a.OK {
			status = http.StatusServiceUnavailable
		}
		encode(w, status, a)
	})
}
