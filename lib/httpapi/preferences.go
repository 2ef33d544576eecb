package httpapi

import "net/http"

// TODO(preferences): replaced by the notifications work of issue 4.
func handleGetPreferences(d *Deps) http.Handler { return notYet(d) }
func handlePutPreferences(d *Deps) http.Handler { return notYet(d) }
