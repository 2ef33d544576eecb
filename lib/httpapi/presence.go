package httpapi

import "net/http"

// TODO(presence): replaced by the presence work of issue 4.
func handlePresence(d *Deps) http.Handler      { return notYet(d) }
func handlePusherWebhook(d *Deps) http.Handler { return notYet(d) }
