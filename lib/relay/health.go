package relay

import (
	"encoding/json"
	"net/http"
)

// HealthHandler answers GET /healthz: 200 {"ok":true,...} while the relay's
// last probe or claim succeeded, 503 with ok false while it is retrying a
// failure (Pusher or Postgres down); published counts the events this
// process delivered.
func (r *Relay) HealthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		ok := r.Healthy()
		status := http.StatusOK
		if !ok {
			status = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(struct {
			OK        bool  `json:"ok"`
			Published int64 `json:"published"`
		}{ok, r.Published()})
	})
}
