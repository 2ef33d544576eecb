package chat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// FileStorage keeps the bytes of uploaded files; lib/storage implements it on
// any S3-compatible service. chatwire never handles the bytes: clients upload
// and download them with presigned URLs.
type FileStorage interface {
	// PresignPut returns a request that stores exactly size bytes of
	// contentType at key, valid for ttl.
	PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (PresignedRequest, error)
	// PresignGet returns a URL that reads key for ttl, served as file says.
	PresignGet(ctx context.Context, key string, file Download, ttl time.Duration) (string, error)
	// Stat returns the stored size of key; found is false when nothing is there.
	Stat(ctx context.Context, key string) (size int64, found bool, err error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Download says how the storage serves a file: its type, the name a browser
// saves it under, and whether a browser may show it in the page (inline) or
// must download it (attachment).
type Download struct {
	Name        string
	ContentType string
	Inline      bool
}

// PresignedRequest is a request a client makes to the storage without chatwire.
type PresignedRequest struct {
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	ExpiresAt time.Time         `json:"-"`
}

// FileOptions configure files; with a nil Storage files are off.
type FileOptions struct {
	Storage FileStorage
	// MaxBytes bounds an upload; default DefaultAttachmentMaxBytes.
	MaxBytes int64
	// Types lists the accepted content types ("image/png") and families
	// ("image/*"); default DefaultAttachmentTypes.
	Types []string
	// UploadTTL is how long a presigned PUT works; default 10 minutes.
	UploadTTL time.Duration
	// URLTTL is how long a signed GET URL works; default 15 minutes.
	URLTTL time.Duration
	// UnattachedAge: the cron removes uploads never attached to a message
	// once they are this old; default a day.
	UnattachedAge time.Duration
	// SweepLimit bounds the uploads one cron run removes; default 200.
	SweepLimit int
}

// DefaultAttachmentMaxBytes is ATTACHMENT_MAX_BYTES when unset: 10 MiB.
const DefaultAttachmentMaxBytes = 10 << 20

// DefaultAttachmentTypes is ATTACHMENT_TYPES when unset: pictures, sound,
// video, PDF, plain text and zip archives. SVG and HTML are left out: a
// browser runs scripts in them when the URL is opened.
var DefaultAttachmentTypes = []string{
	"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/heic",
	"audio/mpeg", "audio/ogg", "audio/wav", "audio/webm", "audio/mp4",
	"video/mp4", "video/webm", "video/quicktime",
	"application/pdf", "text/plain", "text/csv", "application/zip",
}

func (o FileOptions) withDefaults() FileOptions {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultAttachmentMaxBytes
	}
	if len(o.Types) == 0 {
		o.Types = DefaultAttachmentTypes
	}
	if o.UploadTTL <= 0 {
		o.UploadTTL = 10 * time.Minute
	}
	if o.URLTTL <= 0 {
		o.URLTTL = 15 * time.Minute
	}
	if o.UnattachedAge <= 0 {
		o.UnattachedAge = 24 * time.Hour
	}
	if o.SweepLimit <= 0 {
		o.SweepLimit = 200
	}
	return o
}

// AttachmentStore is the persistence of uploads.
type AttachmentStore interface {
	// CreateAttachment records an upload the owner asked for.
	CreateAttachment(ctx context.Context, a StoredAttachment) error
	// OwnAttachment returns the owner's upload with that id; found is false
	// for an unknown id and for someone else's upload alike.
	OwnAttachment(ctx context.Context, ownerID, id string) (a StoredAttachment, found bool, err error)
	// ReadableAttachment returns the upload when the user may read it: its
	// owner before it is sent, the two users of its chat, the current
	// members of its room.
	ReadableAttachment(ctx context.Context, userID, id string) (a StoredAttachment, found bool, err error)
	// ClaimExpiredAttachments marks up to limit uploads for removal, oldest
	// first: those never attached and created before cutoff, and those
	// discarded (their message deleted). Marked uploads can no longer be sent.
	ClaimExpiredAttachments(ctx context.Context, cutoff time.Time, limit int) ([]StoredAttachment, error)
	// DeleteAttachments forgets uploads whose objects are gone.
	DeleteAttachments(ctx context.Context, ids []string) error
	// SentAttachments returns which of ids are still carried by their
	// message: sent, and not discarded since (the message deleted, or its
	// attachment cleared).
	SentAttachments(ctx context.Context, ids []string) (map[string]bool, error)
}

// StoredAttachment is one upload as the store keeps it.
type StoredAttachment struct {
	ID          string
	OwnerID     string
	Key         string
	Name        string
	Size        int64
	ContentType string
	// MessageID is the message it was sent with, nil before.
	MessageID *string
	// MessageClientID is that message's client_id, for retries.
	MessageClientID *string
	CreatedAt       time.Time
}

// Attachment returns the description a message carries.
func (a StoredAttachment) Attachment() *Attachment {
	return &Attachment{ID: a.ID, Name: a.Name, Size: a.Size, ContentType: a.ContentType}
}

// ObjectKey is where an upload's bytes live: a folder per user (a hash, so any
// user id makes a clean key) and the upload's random id, so keys cannot be
// guessed. History derives it from a message's sender and attachment id.
func ObjectKey(ownerID, attachmentID string) string {
	sum := sha256.Sum256([]byte(ownerID))
	return "attachments/" + hex.EncodeToString(sum[:12]) + "/" + attachmentID
}

// AttachmentInput is the body of POST /api/attachments.
type AttachmentInput struct {
	Name        string `json:"name" validate:"required,max=255"`
	Size        int64  `json:"size" validate:"required,gt=0"`
	ContentType string `json:"content_type" validate:"required,max=255"`
}

// UploadGrant is the answer of RequestUpload.
type UploadGrant struct {
	Attachment *Attachment `json:"attachment"`
	Upload     UploadJSON  `json:"upload"`
}

// UploadJSON is the presigned PUT as API.md spells it.
type UploadJSON struct {
	PresignedRequest
	ExpiresAt string `json:"expires_at"`
}

// FilesEnabled reports whether storage is configured.
func (s *Service) FilesEnabled() bool { return s.files.Storage != nil }

func (s *Service) requireFiles() error {
	if s.files.Storage == nil {
		return Errorf(EUNAVAILABLE, "file uploads are off: storage is not configured (STORAGE_ENDPOINT, STORAGE_BUCKET, ...)")
	}
	return nil
}

// RequestUpload records an upload and returns a presigned PUT bound to its
// size and type. It counts against the user's send rate limit.
func (s *Service) RequestUpload(ctx context.Context, user User, in AttachmentInput) (UploadGrant, error) {
	if err := s.requireFiles(); err != nil {
		return UploadGrant{}, err
	}
	in.Name = strings.TrimSpace(in.Name)
	in.ContentType = strings.ToLower(strings.TrimSpace(in.ContentType))
	if err := s.check(in); err != nil {
		return UploadGrant{}, err
	}
	if err := checkFileName(in.Name); err != nil {
		return UploadGrant{}, err
	}
	if in.Size > s.files.MaxBytes {
		return UploadGrant{}, FieldError("size", fmt.Sprintf("at most %d bytes", s.files.MaxBytes))
	}
	if !typeAllowed(s.files.Types, in.ContentType) {
		return UploadGrant{}, FieldError("content_type", "not accepted; accepted: "+strings.Join(s.files.Types, ", "))
	}
	if err := s.checkSendRate(ctx, user); err != nil {
		return UploadGrant{}, err
	}
	id := uuid.NewString()
	a := StoredAttachment{ID: id, OwnerID: user.ID, Key: ObjectKey(user.ID, id), Name: in.Name, Size: in.Size, ContentType: in.ContentType}
	put, err := s.files.Storage.PresignPut(ctx, a.Key, a.ContentType, a.Size, s.files.UploadTTL)
	if err != nil {
		return UploadGrant{}, fmt.Errorf("chat: presign upload: %w", err)
	}
	if err := s.store.CreateAttachment(ctx, a); err != nil {
		return UploadGrant{}, err
	}
	return UploadGrant{Attachment: a.Attachment(), Upload: UploadJSON{PresignedRequest: put, ExpiresAt: FormatTime(put.ExpiresAt)}}, nil
}

// checkFileName refuses names a download could not carry (control
// characters, path separators) and names that read as something else: a
// bidi control makes "invoice\u202Egnp.exe" show as "invoiceexe.png".
func checkFileName(name string) error {
	if !utf8.ValidString(name) {
		return FieldError("name", "must be valid UTF-8")
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == '/' || r == '\\' {
			return FieldError("name", "must not contain control characters or slashes")
		}
		if unicode.Is(unicode.Bidi_Control, r) {
			return FieldError("name", "must not contain bidirectional controls (U+202E and the like)")
		}
	}
	return nil
}

// typeAllowed: ct is listed by name, or belongs to a listed family and is not
// a type a browser runs scripts in (image/* must not admit SVG, text/* not
// HTML); an operator who wants one of those lists it by name.
func typeAllowed(types []string, ct string) bool {
	for _, t := range types {
		if t == ct {
			return true
		}
		if strings.HasSuffix(t, "/*") && strings.HasPrefix(ct, strings.TrimSuffix(t, "*")) && !scriptable(ct) {
			return true
		}
	}
	return false
}

// scriptable reports types a browser may run scripts in when it opens them.
func scriptable(ct string) bool {
	switch ct {
	case "image/svg+xml", "text/html", "application/xhtml+xml", "text/xml", "application/xml",
		"text/javascript", "application/javascript", "text/ecmascript", "text/xsl":
		return true
	}
	return strings.HasSuffix(ct, "+xml") || strings.Contains(ct, "script")
}

// inlineTypes are the types a browser shows without running anything from the
// file: every other type is served as a download.
var inlineTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true, "image/avif": true,
	"image/heic": true, "image/heif": true, "image/bmp": true,
	"application/pdf": true, "text/plain": true,
}

// download is how the storage serves an upload.
func download(name, contentType string) Download {
	major, _, _ := strings.Cut(contentType, "/")
	inline := inlineTypes[contentType] || major == "audio" || major == "video"
	return Download{Name: name, ContentType: contentType, Inline: inline}
}

// FileURL returns a fresh signed URL of an upload the user may read; an
// upload the user may not read is not found.
func (s *Service) FileURL(ctx context.Context, user User, id string) (string, error) {
	if err := s.requireFiles(); err != nil {
		return "", err
	}
	if err := uuid.Validate(id); err != nil || len(id) != 36 {
		return "", Errorf(ENOTFOUND, "no such attachment")
	}
	a, found, err := s.store.ReadableAttachment(ctx, user.ID, id)
	if err != nil {
		return "", err
	}
	if !found {
		return "", Errorf(ENOTFOUND, "no such attachment")
	}
	u, err := s.files.Storage.PresignGet(ctx, a.Key, download(a.Name, a.ContentType), s.files.URLTTL)
	if err != nil {
		return "", fmt.Errorf("chat: presign download: %w", err)
	}
	return u, nil
}

// attachUpload resolves a send's attachment id to the sender's upload: it must
// be theirs, uploaded with the declared size, and not sent with another
// message. A retry of the message that used it (same client_id) passes, for
// the store to answer with that message.
func (s *Service) attachUpload(ctx context.Context, sender User, in SendInput) (*Attachment, error) {
	if err := s.requireFiles(); err != nil {
		return nil, err
	}
	id := in.Attachment.ID
	a, found, err := s.store.OwnAttachment(ctx, sender.ID, id)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, &Error{Code: ENOTFOUND, Message: "attachment.id: no upload of yours has this id",
			Fields: map[string]string{"attachment.id": "no upload of yours has this id"}}
	}
	if a.MessageID != nil {
		if in.ClientID != "" && a.MessageClientID != nil && *a.MessageClientID == in.ClientID {
			return a.Attachment(), nil
		}
		return nil, attachmentUsed()
	}
	size, found, err := s.files.Storage.Stat(ctx, a.Key)
	if err != nil {
		s.log.WarnContext(ctx, "storage HEAD failed", "attachment", a.ID, "err", err)
		return nil, Errorf(EUNAVAILABLE, "file storage did not answer; try again")
	}
	if !found {
		return nil, &Error{Code: ECONFLICT, Message: "attachment.id: nothing uploaded yet",
			Fields: map[string]string{"attachment.id": "nothing uploaded yet: PUT the file to the upload URL first"}}
	}
	if size != a.Size {
		msg := fmt.Sprintf("uploaded %d bytes, declared %d", size, a.Size)
		return nil, &Error{Code: EINVALID, Message: "attachment.id: " + msg, Fields: map[string]string{"attachment.id": msg}}
	}
	return a.Attachment(), nil
}

// attachmentUsed is the error for an upload already sent with a message.
func attachmentUsed() *Error {
	return &Error{Code: ECONFLICT, Message: "attachment.id: already sent with another message",
		Fields: map[string]string{"attachment.id": "already sent with another message"}}
}

// AttachmentUsedError is what the store returns when the database refuses to
// bind an upload (a concurrent send took it first).
func AttachmentUsedError() error { return attachmentUsed() }

// signMessages gives every uploaded file of msgs a fresh signed URL.
func (s *Service) signMessages(ctx context.Context, msgs []Message) error {
	if s.files.Storage == nil {
		return nil
	}
	for i := range msgs {
		if err := s.signAttachment(ctx, msgs[i].SenderID, msgs[i].Attachment); err != nil {
			return err
		}
	}
	return nil
}

// signAttachment fills the URL of an uploaded file; a linked URL stays as it is.
func (s *Service) signAttachment(ctx context.Context, senderID string, a *Attachment) error {
	if a == nil || a.ID == "" || s.files.Storage == nil {
		return nil
	}
	u, err := s.files.Storage.PresignGet(ctx, ObjectKey(senderID, a.ID), download(a.Name, a.ContentType), s.files.URLTTL)
	if err != nil {
		return fmt.Errorf("chat: sign attachment %s: %w", a.ID, err)
	}
	a.URL = u
	return nil
}

// SweepFilesResult is the outcome of SweepFiles.
type SweepFilesResult struct {
	Removed int `json:"removed"`
}

// SweepFiles removes uploads never sent within UnattachedAge, and those whose
// message was deleted: the objects first, then the rows, at most SweepLimit
// per run. A failed object delete leaves its row marked for the next run.
func (s *Service) SweepFiles(ctx context.Context, now time.Time) (SweepFilesResult, error) {
	if s.files.Storage == nil {
		return SweepFilesResult{}, nil
	}
	claimed, err := s.store.ClaimExpiredAttachments(ctx, now.Add(-s.files.UnattachedAge), s.files.SweepLimit)
	if err != nil {
		return SweepFilesResult{}, err
	}
	gone := make([]string, 0, len(claimed))
	for _, a := range claimed {
		if !s.timeLeft(ctx) {
			break
		}
		if err := s.files.Storage.Delete(ctx, a.Key); err != nil {
			s.log.WarnContext(ctx, "delete upload failed; the next sweep retries", "attachment", a.ID, "err", err)
			continue
		}
		gone = append(gone, a.ID)
	}
	if len(gone) == 0 {
		return SweepFilesResult{}, nil
	}
	if err := s.store.DeleteAttachments(ctx, gone); err != nil {
		return SweepFilesResult{}, err
	}
	return SweepFilesResult{Removed: len(gone)}, nil
}
