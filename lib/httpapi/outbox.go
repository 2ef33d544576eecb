package httpapi

import "net/http"

// TODO(outbox): replaced by the bridge and redelivery work of issue 4.
func handleDatabaseWebhook(d *Deps) http.Handler { return notYet(d) }
func handleCronOutbox(d *Deps) http.Handler      { return notYet(d) }
