package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/chat"
)

// The WHERE clauses repeat the expressions of the messages_chat_history and
// messages_room_history indexes exactly (including the partial-index
// predicate), so that a page is one index range scan: keyset pagination on
// (created_at, id), never OFFSET. The before row must belong to the same chat
// or room; from anywhere else the subquery selects nothing, the row comparison
// is NULL and the page empty (and the check reports it). ORDER BY names m's
// columns: a bare "id" would mean the output column id::text, and sorting text
// cannot use the index.
const (
	chatPageSQL = `SELECT ` + messageColumns + ` FROM messages m
WHERE room_id IS NULL
  AND least(sender_id, receiver_id) = least($1::text, $2::text)
  AND greatest(sender_id, receiver_id) = greatest($1::text, $2::text)
ORDER BY m.created_at DESC, m.id DESC
LIMIT $3`

	chatBefore = `(SELECT created_at, id FROM messages
  WHERE id = $3::text::uuid AND room_id IS NULL
    AND least(sender_id, receiver_id) = least($1::text, $2::text)
    AND greatest(sender_id, receiver_id) = greatest($1::text, $2::text))`

	chatPageBeforeSQL = `SELECT ` + messageColumns + ` FROM messages m
WHERE room_id IS NULL
  AND least(sender_id, receiver_id) = least($1::text, $2::text)
  AND greatest(sender_id, receiver_id) = greatest($1::text, $2::text)
  AND (created_at, id) < ` + chatBefore + `
ORDER BY m.created_at DESC, m.id DESC
LIMIT $4`

	chatCheckSQL = `SELECT EXISTS ` + chatBefore

	roomPageSQL = `SELECT ` + messageColumns + ` FROM messages m
WHERE room_id IS NOT NULL AND room_id = $1::text
ORDER BY m.created_at DESC, m.id DESC
LIMIT $2`

	roomPageBeforeSQL = `SELECT ` + messageColumns + ` FROM messages m
WHERE room_id IS NOT NULL AND room_id = $1::text
  AND (created_at, id) < (SELECT created_at, id FROM messages
                          WHERE id = $2::text::uuid AND room_id = $1::text)
ORDER BY m.created_at DESC, m.id DESC
LIMIT $3`

	// Does the room exist, is the user a member, is before (if any) in the room.
	roomCheckSQL = `SELECT EXISTS (SELECT 1 FROM rooms WHERE id = $1::text),
       EXISTS (SELECT 1 FROM room_members WHERE room_id = $1::text AND user_id = $2::text),
       $3::text IS NULL
         OR EXISTS (SELECT 1 FROM messages WHERE id = $3::text::uuid AND room_id = $1::text)`
)

// History returns up to q.Limit messages of a chat (q.UserID with q.With) or a
// room (q.RoomID, current members only) older than the message q.Before,
// newest first. A before id that is malformed or not a message of this chat or
// room is an EINVALID error on field "before".
//
// The checks and the page travel in one batch: one round trip.
func (db *DB) History(ctx context.Context, q chat.HistoryQuery) ([]chat.Message, error) {
	if q.Limit < 1 {
		return nil, chat.FieldError("limit", "must be at least 1")
	}
	if err := checkText("with", q.With, "room_id", q.RoomID); err != nil {
		return nil, err
	}
	if q.Before != "" && !isUUID(q.Before) {
		return nil, chat.FieldError("before", "not a message id")
	}

	b := &pgx.Batch{}
	var check historyCheck
	switch {
	case q.RoomID != "":
		check = roomCheck
		b.Queue(roomCheckSQL, q.RoomID, q.UserID, nullable(q.Before))
		if q.Before == "" {
			b.Queue(roomPageSQL, q.RoomID, q.Limit)
		} else {
			b.Queue(roomPageBeforeSQL, q.RoomID, q.Before, q.Limit)
		}
	case q.With != "":
		if q.Before == "" {
			b.Queue(chatPageSQL, q.UserID, q.With, q.Limit)
		} else {
			check = chatCheck
			b.Queue(chatCheckSQL, q.UserID, q.With, q.Before)
			b.Queue(chatPageBeforeSQL, q.UserID, q.With, q.Before, q.Limit)
		}
	default:
		return nil, chat.Errorf(chat.EINVALID, "history needs a user or a room")
	}

	ctx, cancel := db.deadline(ctx)
	defer cancel()
	msgs, err := db.sendHistory(ctx, b, check)
	if err != nil {
		return nil, fmt.Errorf("store: history: %w", inputError(err))
	}
	return msgs, nil
}

// historyCheck says which check statement, if any, precedes the page.
type historyCheck int

const (
	noCheck historyCheck = iota
	chatCheck
	roomCheck
)

func (db *DB) sendHistory(ctx context.Context, b *pgx.Batch, check historyCheck) (msgs []chat.Message, err error) {
	br := db.pool.SendBatch(ctx, b)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	roomExists, member, beforeOK := true, true, true
	switch check {
	case chatCheck:
		err = br.QueryRow().Scan(&beforeOK)
	case roomCheck:
		err = br.QueryRow().Scan(&roomExists, &member, &beforeOK)
	}
	switch {
	case err != nil:
		return nil, err
	case !roomExists:
		return nil, notFound("room_id", "room not found")
	case !member:
		return nil, forbidden("room_id", "not a member of this room")
	case !beforeOK:
		return nil, chat.FieldError("before", "not a message of this conversation")
	}
	return collectMessages(br.Query())
}
