package httpapi

import (
	"net/http"
	"strings"

	"github.com/chatwire/chatwire/lib/chat"
)

// handleRequestUpload records an upload and answers with its presigned PUT.
func handleRequestUpload(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[chat.AttachmentInput](w, r)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		grant, err := d.Chat.RequestUpload(r.Context(), caller(r), in)
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		encode(w, http.StatusCreated, grant)
	})
}

// handleAttachmentFile redirects a member of the file's conversation to a
// fresh signed URL; anyone else gets 404, as for an unknown id.
func handleAttachmentFile(d *Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		url, err := d.Chat.FileURL(r.Context(), caller(r), attachmentID(r))
		if err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		// The signed URL is a credential for its lifetime: no cache keeps it.
		w.Header().Set("Cache-Control", "private, no-store")
		http.Redirect(w, r, url, http.StatusFound)
	})
}

// attachmentID reads {id} from the path (`serve`) or, behind the vercel.json
// rewrite of /api/attachments/:id to the function file, from ?id=.
func attachmentID(r *http.Request) string {
	if id := r.PathValue("id"); id != "" {
		return id
	}
	if id := r.URL.Query().Get("id"); id != "" {
		return id
	}
	return r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
}
