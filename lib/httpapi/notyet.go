package httpapi

import "net/http"

// notYet answers 501 for a route whose work is in progress. Delete this file
// when no route uses it.
func notYet(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, d.Log, apiError(http.StatusNotImplemented, "internal", "not implemented yet"))
	})
}
