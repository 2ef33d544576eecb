package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/chatwire/chatwire/lib/chat"
)

// attachmentUsedCode is the SQLSTATE chatwire_attach_upload raises when a
// message names an upload that is not the sender's unsent one.
const attachmentUsedCode = "CW016"

const attachmentColumns = `a.id::text, a.owner_id, a.object_key, a.name, a.size, a.content_type, a.message_id::text, a.created_at`

// CreateAttachment records an upload the owner asked for.
func (db *DB) CreateAttachment(ctx context.Context, a chat.StoredAttachment) error {
	if err := checkText("name", a.Name, "content_type", a.ContentType, "sender", a.OwnerID); err != nil {
		return err
	}
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	_, err := db.pool.Exec(ctx, `INSERT INTO attachments (id, owner_id, object_key, name, size, content_type)
VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::bigint, $6::text)`,
		a.ID, a.OwnerID, a.Key, a.Name, a.Size, a.ContentType)
	if err != nil {
		return fmt.Errorf("store: create attachment: %w", inputError(err))
	}
	return nil
}

// OwnAttachment returns the owner's upload, with the client_id of the message
// that carries it, if any. A discarded upload is not found.
func (db *DB) OwnAttachment(ctx context.Context, ownerID, id string) (chat.StoredAttachment, bool, error) {
	if !isUUID(id) {
		return chat.StoredAttachment{}, false, nil
	}
	if err := checkText("sender", ownerID); err != nil {
		return chat.StoredAttachment{}, false, err
	}
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	var a chat.StoredAttachment
	err := db.pool.QueryRow(ctx, `SELECT `+attachmentColumns+`, m.client_id
FROM attachments a LEFT JOIN messages m ON m.id = a.message_id
WHERE a.id = $1::uuid AND a.owner_id = $2::text AND a.discarded_at IS NULL`, id, ownerID).
		Scan(append(attachmentDest(&a), &a.MessageClientID)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return chat.StoredAttachment{}, false, nil
	}
	if err != nil {
		return chat.StoredAttachment{}, false, fmt.Errorf("store: own attachment: %w", err)
	}
	return a, true, nil
}

// readableAttachmentSQL is the read rule of files: the owner before sending,
// then whoever may read the message: its chat's two users, or the room's
// current members (so a member who leaves loses access).
const readableAttachmentSQL = `SELECT ` + attachmentColumns + `
FROM attachments a LEFT JOIN messages m ON m.id = a.message_id
WHERE a.id = $1::uuid AND a.discarded_at IS NULL
  AND CASE
    WHEN m.id IS NULL THEN a.message_id IS NULL AND a.owner_id = $2::text
    WHEN m.room_id IS NULL THEN $2::text IN (m.sender_id, m.receiver_id)
    ELSE EXISTS (SELECT 1 FROM room_members rm WHERE rm.room_id = m.room_id AND rm.user_id = $2::text)
  END`

// ReadableAttachment returns the upload when the user may read it.
func (db *DB) ReadableAttachment(ctx context.Context, userID, id string) (chat.StoredAttachment, bool, error) {
	if !isUUID(id) {
		return chat.StoredAttachment{}, false, nil
	}
	if err := checkText("user_id", userID); err != nil {
		return chat.StoredAttachment{}, false, err
	}
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	var a chat.StoredAttachment
	err := db.pool.QueryRow(ctx, readableAttachmentSQL, id, userID).Scan(attachmentDest(&a)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return chat.StoredAttachment{}, false, nil
	}
	if err != nil {
		return chat.StoredAttachment{}, false, fmt.Errorf("store: readable attachment: %w", err)
	}
	return a, true, nil
}

// claimExpiredSQL marks old unsent uploads discarded and returns them with
// those already discarded (by a deleted message, or a sweep whose object
// delete failed), oldest first. SKIP LOCKED keeps concurrent sweeps apart; the
// row lock also waits out a send binding the same upload, which then wins or
// fails cleanly.
const claimExpiredSQL = `WITH picked AS (
  SELECT id FROM attachments
  WHERE (message_id IS NULL AND created_at < $1::timestamptz) OR discarded_at IS NOT NULL
  ORDER BY created_at
  LIMIT $2::int
  FOR UPDATE SKIP LOCKED
)
UPDATE attachments a SET discarded_at = coalesce(a.discarded_at, now())
FROM picked WHERE a.id = picked.id
RETURNING ` + attachmentColumns

// ClaimExpiredAttachments marks up to limit uploads for removal and returns them.
func (db *DB) ClaimExpiredAttachments(ctx context.Context, cutoff time.Time, limit int) ([]chat.StoredAttachment, error) {
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	rows, err := db.pool.Query(ctx, claimExpiredSQL, cutoff, limit)
	if err != nil {
		return nil, fmt.Errorf("store: claim expired attachments: %w", err)
	}
	claimed, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (chat.StoredAttachment, error) {
		var a chat.StoredAttachment
		err := row.Scan(attachmentDest(&a)...)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim expired attachments: %w", err)
	}
	return claimed, nil
}

// DeleteAttachments forgets discarded uploads whose objects are gone.
func (db *DB) DeleteAttachments(ctx context.Context, ids []string) error {
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	_, err := db.pool.Exec(ctx, `DELETE FROM attachments WHERE id = ANY($1::uuid[]) AND discarded_at IS NOT NULL`, ids)
	if err != nil {
		return fmt.Errorf("store: delete attachments: %w", err)
	}
	return nil
}

// SentAttachments returns which of ids are still carried by their message.
func (db *DB) SentAttachments(ctx context.Context, ids []string) (map[string]bool, error) {
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if isUUID(id) {
			valid = append(valid, id)
		}
	}
	sent := make(map[string]bool, len(valid))
	if len(valid) == 0 {
		return sent, nil
	}
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	rows, err := db.pool.Query(ctx, `SELECT id::text FROM attachments
WHERE id = ANY($1::uuid[]) AND message_id IS NOT NULL AND discarded_at IS NULL`, valid)
	if err != nil {
		return nil, fmt.Errorf("store: sent attachments: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: sent attachments: %w", err)
	}
	for _, id := range found {
		sent[id] = true
	}
	return sent, nil
}

func attachmentDest(a *chat.StoredAttachment) []any {
	return []any{&a.ID, &a.OwnerID, &a.Key, &a.Name, &a.Size, &a.ContentType, &a.MessageID, &a.CreatedAt}
}

// attachmentError turns the database's refusal to bind an upload into the
// client's error; anything else is returned as is.
func attachmentError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == attachmentUsedCode {
		return chat.AttachmentUsedError()
	}
	return err
}
