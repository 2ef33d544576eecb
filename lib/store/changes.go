package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/chat"
)

// Edits, deletes and reactions each travel as one batch: the guarded change,
// the read-back of the events its triggers wrote, and the message as it now
// is (a new statement, so it sees what the triggers did). The schema keeps
// versions, tombstones and reaction summaries (009_inbox.sql), for legacy
// writers as much as for these. The guards are in the change's WHERE: a
// concurrent edit or delete waits for the row and re-checks them on its
// newest version, so an edit can never revive a tombstone.
const (
	editSQL = `UPDATE messages SET body = $3::text
WHERE id = $1::text::uuid AND sender_id = $2::text AND deleted_at IS NULL
  AND body <> $3::text AND ($3::text <> '' OR attachment IS NOT NULL)
RETURNING ` + messageColumns

	deleteSQL = `UPDATE messages SET deleted_at = now()
WHERE id = $1::text::uuid AND sender_id = $2::text AND deleted_at IS NULL
RETURNING ` + messageColumns

	// mayReact over messages m, $2 the user: a participant of the chat or a
	// current member of the room.
	mayReact = `(m.sender_id = $2::text OR m.receiver_id = $2::text
  OR (m.room_id IS NOT NULL AND EXISTS (SELECT 1 FROM room_members rm
                                        WHERE rm.room_id = m.room_id AND rm.user_id = $2::text)))`

	// A repeat conflicts and inserts nothing: the trigger then has no rows
	// and writes nothing.
	reactOnSQL = `INSERT INTO message_reactions (message_id, emoji, user_id)
SELECT m.id, $3::text, $2::text FROM messages m
WHERE m.id = $1::text::uuid AND m.deleted_at IS NULL AND ` + mayReact + `
ON CONFLICT (message_id, emoji, user_id) DO NOTHING`

	reactOffSQL = `DELETE FROM message_reactions r USING messages m
WHERE r.message_id = $1::text::uuid AND r.emoji = $3::text AND r.user_id = $2::text
  AND m.id = r.message_id AND ` + mayReact

	// The message now, and whether $2 may react to it.
	changedMessageSQL = `SELECT ` + messageColumns + `, ` + mayReact + `
FROM messages m WHERE m.id = $1::text::uuid`
)

// EditMessage replaces the body of the editor's own message.
func (db *DB) EditMessage(ctx context.Context, editorID, messageID, body string) (chat.ChangedMessage, error) {
	if err := checkText("body", body); err != nil {
		return chat.ChangedMessage{}, err
	}
	res, current, err := db.change(ctx, messageID, editorID, editSQL, messageID, editorID, body)
	if err != nil {
		return res, fmt.Errorf("store: edit message: %w", err)
	}
	if res.Changed {
		return res, nil
	}
	switch {
	case current.SenderID != editorID:
		return res, forbidden("id", "only the sender may edit a message")
	case current.DeletedAt != nil:
		return res, &chat.Error{Code: chat.ECONFLICT, Message: "the message was deleted", Fields: map[string]string{"id": "the message was deleted"}}
	case body == "" && current.Attachment == nil:
		return res, chat.FieldError("body", "required unless the message has an attachment")
	}
	// The same body: nothing to change.
	res.Message = current.Message
	return res, nil
}

// DeleteMessage turns the user's own message into a tombstone.
func (db *DB) DeleteMessage(ctx context.Context, userID, messageID string) (chat.ChangedMessage, error) {
	res, current, err := db.change(ctx, messageID, userID, deleteSQL, messageID, userID)
	if err != nil {
		return res, fmt.Errorf("store: delete message: %w", err)
	}
	if res.Changed {
		return res, nil
	}
	if current.SenderID != userID {
		return res, forbidden("id", "only the sender may delete a message")
	}
	// Deleted before: the tombstone as it is, nothing sent.
	res.Message = current.Message
	return res, nil
}

// React adds or takes back the user's reaction to a message.
func (db *DB) React(ctx context.Context, userID string, r chat.ReactionChange) (chat.ChangedMessage, error) {
	if err := checkText("emoji", r.Emoji); err != nil {
		return chat.ChangedMessage{}, err
	}
	change := reactOffSQL
	if r.On {
		change = reactOnSQL
	}
	res, current, err := db.change(ctx, r.MessageID, userID, change, r.MessageID, userID, r.Emoji)
	if err != nil {
		return res, fmt.Errorf("store: react: %w", err)
	}
	switch {
	case !current.mayReact:
		return chat.ChangedMessage{}, forbidden("id", "not a member of this message's conversation")
	case r.On && !res.Changed && current.DeletedAt != nil:
		return chat.ChangedMessage{}, &chat.Error{Code: chat.ECONFLICT, Message: "the message was deleted", Fields: map[string]string{"id": "the message was deleted"}}
	}
	res.Message = current.Message
	return res, nil
}

// currentMessage is the message as changedMessageSQL reads it.
type currentMessage struct {
	chat.Message
	mayReact bool
}

// change runs one guarded change of a message in a batch with the read-back
// of its events and of the message. Changed says whether the change wrote
// anything; a message that does not exist is ENOTFOUND.
func (db *DB) change(ctx context.Context, messageID, userID, changeSQL string, args ...any) (res chat.ChangedMessage, current currentMessage, err error) {
	if !isUUID(messageID) {
		return res, current, chat.FieldError("id", "not a message id")
	}
	if err := checkText("sender", userID); err != nil {
		return res, current, err
	}
	b := &pgx.Batch{}
	b.Queue(changeSQL, args...)
	b.Queue(ownEventsSQL)
	b.Queue(changedMessageSQL, messageID, userID)

	ctx, cancel := db.deadline(ctx)
	defer cancel()
	br := db.pool.SendBatch(ctx, b)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	tag, err := br.Exec()
	if err != nil {
		return res, current, inputError(err)
	}
	res.Changed = tag.RowsAffected() > 0
	if res.Events, err = collectEvents(br.Query()); err != nil {
		return res, current, fmt.Errorf("read events: %w", err)
	}
	var row messageRow
	err = br.QueryRow().Scan(append(row.dest(), &current.mayReact)...)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return res, current, notFound("id", "message not found")
	case err != nil:
		return res, current, err
	}
	if current.Message, err = row.message(); err != nil {
		return res, current, err
	}
	if res.Changed {
		res.Message = current.Message
	}
	return res, current, nil
}
