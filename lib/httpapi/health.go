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
		Schema   string `json:"schema"`
		Pusher   string `json:"pusher"`
		// Message says what to do when something is not ok.
		Message string `json:"message,omitempty"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		a := answer{OK: true, Database: "ok", Pusher: "disabled"}
		check, err := d.CheckSchema(ctx)
		a.Schema = check.State
		switch {
		case err != nil:
			d.Log.WarnContext(ctx, "health: database", "err", err)
			a.OK, a.Database = false, "error"
		case !check.OK():
			d.Log.ErrorContext(ctx, "health: schema "+check.State, "applied", check.Applied, "expected", check.Expected, "hint", migrateHint)
			a.OK, a.Message = false, check.Problem()
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
