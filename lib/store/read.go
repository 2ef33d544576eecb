package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/chat"
)

// markReadSQL checks and marks in one statement: the update runs only when
// every id ($3 distinct ids) is a message the reader received. The rows are
// locked first, in id order, so that concurrent calls over overlapping ids
// queue instead of deadlocking; a call that waited finds read_at already set
// (READ COMMITTED rechecks the newest row version) and marks nothing twice.
// The statement trigger writes one message-read event per chat.
const markReadSQL = `WITH owned AS (
  SELECT id FROM messages
  WHERE id = ANY ($1::text[]::uuid[]) AND receiver_id = $2::text
  ORDER BY id
  FOR UPDATE
), marked AS (
  UPDATE messages SET read_at = now()
  WHERE id IN (SELECT id FROM owned) AND read_at IS NULL
    AND (SELECT count(*) FROM owned) = $3::bigint
  RETURNING id, created_at
)
SELECT (SELECT count(*) FROM owned), now(),
       coalesce((SELECT array_agg(id::text ORDER BY created_at, id) FROM marked), '{}')`

const markReadFromSQL = `WITH unread AS (
  SELECT id FROM messages
  WHERE receiver_id = $1::text AND sender_id = $2::text AND room_id IS NULL AND read_at IS NULL
  ORDER BY id
  FOR UPDATE
), marked AS (
  UPDATE messages SET read_at = now()
  WHERE id IN (SELECT id FROM unread) AND read_at IS NULL
  RETURNING id, created_at
)
SELECT count(*), now(), coalesce(array_agg(id::text ORDER BY created_at, id), '{}') FROM marked`

// MarkRead marks messages the reader received as read, all or nothing: if any
// id is not a message whose receiver is the reader, nothing is marked and the
// error is EFORBIDDEN. It returns the ids newly marked (ids already read are
// left alone) and the message-read events written.
func (db *DB) MarkRead(ctx context.Context, readerID string, messageIDs []string) (chat.ReadResult, error) {
	ids, err := distinctMessageIDs(messageIDs)
	if err != nil {
		return chat.ReadResult{}, err
	}
	b := &pgx.Batch{}
	b.Queue(markReadSQL, ids, readerID, len(ids))
	b.Queue(ownEventsSQL)
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	owned, res, err := db.sendRead(ctx, b)
	if err != nil {
		return chat.ReadResult{}, fmt.Errorf("store: mark read: %w", inputError(err))
	}
	if owned != int64(len(ids)) {
		return chat.ReadResult{}, forbidden("message_ids", "not a message you received")
	}
	return res, nil
}

// MarkReadFrom marks everything unread the reader received from sender in
// their 1:1 chat.
func (db *DB) MarkReadFrom(ctx context.Context, readerID, senderID string) (chat.ReadResult, error) {
	if err := checkText("with", senderID); err != nil {
		return chat.ReadResult{}, err
	}
	b := &pgx.Batch{}
	b.Queue(markReadFromSQL, readerID, senderID)
	b.Queue(ownEventsSQL)
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	_, res, err := db.sendRead(ctx, b)
	if err != nil {
		return chat.ReadResult{}, fmt.Errorf("store: mark read from: %w", inputError(err))
	}
	return res, nil
}

// sendRead runs a mark-read statement and the read-back of its events in one
// batch: one round trip, one implicit transaction (see InsertMessage).
func (db *DB) sendRead(ctx context.Context, b *pgx.Batch) (owned int64, res chat.ReadResult, err error) {
	br := db.pool.SendBatch(ctx, b)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	var readAt time.Time
	if err := br.QueryRow().Scan(&owned, &readAt, &res.IDs); err != nil {
		return 0, res, err
	}
	res.ReadAt = readAt
	if res.Events, err = collectEvents(br.Query()); err != nil {
		return 0, res, fmt.Errorf("read events: %w", err)
	}
	return owned, res, nil
}

// maxReadIDs bounds one request (API.md: 1–500 ids).
const maxReadIDs = 500

// distinctMessageIDs validates the ids and drops repeats, so that the count
// check compares like with like.
func distinctMessageIDs(ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, chat.FieldError("message_ids", "at least one id is required")
	}
	if len(ids) > maxReadIDs {
		return nil, chat.FieldError("message_ids", fmt.Sprintf("at most %d ids", maxReadIDs))
	}
	seen := make(map[string]struct{}, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !isUUID(id) {
			return nil, chat.FieldError("message_ids", "not a message id: "+id)
		}
		// Postgres reads upper- and lower-case hex alike.
		key := lowerASCII(id)
		if _, dup := seen[key]; dup {
			continue
		}
		seen[key] = struct{}{}
		out = append(out, key)
	}
	return out, nil
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
