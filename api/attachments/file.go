package attachments

import (
	"net/http"

	"github.com/chatwire/chatwire/lib/httpapi"
)

// AttachmentFile serves GET /api/attachments/{id}; vercel.json rewrites that
// path to this function with ?id=.
func AttachmentFile(w http.ResponseWriter, r *http.Request) {
	httpapi.Serve(w, r, httpapi.AttachmentFile)
}
