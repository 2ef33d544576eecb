package notifications

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/httpapi"
)

// NotificationPreferences serves GET and PUT /api/notifications/preferences.
func NotificationPreferences(w http.ResponseWriter, r *http.Request) {
	httpapi.Serve(w, r, httpapi.Preferences)
}
