package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/chat"
)

// conversationColumns is the select list of a page: the conversation row
// (schema 009_inbox.sql keeps it), the other user's name or the room, and the
// last message. The message columns follow messageColumns, with a default
// where the LEFT JOIN finds no message (lastID then says there is none).
const conversationColumns = `c.id, c.other_id, c.room_id, c.updated_at, c.unread_count, c.last_read_at,
u.name, r.name, r.visibility, m.id::text,
coalesce(m.id::text, ''), m.client_id, coalesce(m.sender_id, ''), m.receiver_id, m.room_id,
coalesce(m.body, ''), m.attachment::text, coalesce(m.created_at, c.updated_at), m.read_at,
coalesce(m.version, 0), m.edited_at, m.deleted_at, coalesce(m.reactions::text, '[]')`

// A page is one range scan of conversations_recent: (user_id, updated_at DESC,
// id DESC), keyset-paginated on the row value, then one primary-key lookup
// per listed row in users or rooms and messages. Its cost does not depend on
// how many conversations the user has or how many messages are stored. The
// page is cut (LIMIT) before the lookups, and the lookups are LATERAL with a
// LIMIT, which Postgres cannot turn into a hash join over a whole table:
// whatever the statistics say, a page touches only the rows it returns.
const (
	conversationsJoin = `
LEFT JOIN LATERAL (SELECT name FROM users WHERE c.other_id IS NOT NULL AND id = c.other_id LIMIT 1) u ON true
LEFT JOIN LATERAL (SELECT name, visibility FROM rooms WHERE c.room_id IS NOT NULL AND id = c.room_id LIMIT 1) r ON true
LEFT JOIN LATERAL (SELECT * FROM messages WHERE id = c.last_message_id LIMIT 1) m ON true
ORDER BY c.updated_at DESC, c.id DESC`

	conversationsSQL = `SELECT ` + conversationColumns + ` FROM (
  SELECT * FROM conversations
  WHERE user_id = $1::text
  ORDER BY updated_at DESC, id DESC
  LIMIT $2
) c` + conversationsJoin

	conversationsBeforeSQL = `SELECT ` + conversationColumns + ` FROM (
  SELECT * FROM conversations
  WHERE user_id = $1::text AND (updated_at, id) < ($3::timestamptz, $4::text)
  ORDER BY updated_at DESC, id DESC
  LIMIT $2
) c` + conversationsJoin
)

// Conversations returns up to q.Limit of the user's conversations, most
// recent activity first, after q.Before when it is set. One statement.
func (db *DB) Conversations(ctx context.Context, q chat.ConversationQuery) ([]chat.Conversation, error) {
	if q.Limit < 1 {
		return nil, chat.FieldError("limit", "must be at least 1")
	}
	if err := checkText("sender", q.UserID); err != nil {
		return nil, err
	}
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	var (
		rows pgx.Rows
		err  error
	)
	if q.Before == nil {
		rows, err = db.pool.Query(ctx, conversationsSQL, q.UserID, q.Limit)
	} else {
		if err := checkText("before", q.Before.ID); err != nil {
			return nil, err
		}
		rows, err = db.pool.Query(ctx, conversationsBeforeSQL, q.UserID, q.Limit, q.Before.UpdatedAt, q.Before.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("store: conversations: %w", err)
	}
	list, err := collectConversations(q.UserID, rows)
	if err != nil {
		return nil, fmt.Errorf("store: conversations: %w", inputError(err))
	}
	return list, nil
}

func collectConversations(userID string, rows pgx.Rows) ([]chat.Conversation, error) {
	defer rows.Close()
	var list []chat.Conversation
	for rows.Next() {
		var (
			c                 chat.Conversation
			otherID, roomID   *string
			name              *string
			roomName, roomVis *string
			lastID            *string
			msg               messageRow
			unread            int32
			updatedAt         time.Time
			lastReadAt        *time.Time
		)
		dest := append([]any{&c.ID, &otherID, &roomID, &updatedAt, &unread, &lastReadAt, &name, &roomName, &roomVis, &lastID}, msg.dest()...)
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		c.UpdatedAt, c.UnreadCount, c.LastReadAt = updatedAt, int(unread), lastReadAt
		switch {
		case otherID != nil:
			c.Kind, c.Channel = chat.KindChat, chat.ChatChannel(userID, *otherID)
			c.With = &chat.ConversationUser{ID: *otherID, Name: *otherID}
			if name != nil {
				c.With.Name = *name
			}
		case roomID != nil:
			c.Kind, c.Channel = chat.KindRoom, chat.RoomChannel(*roomID)
			c.Room = &chat.ConversationRoom{ID: *roomID}
			if roomName != nil && roomVis != nil {
				c.Room.Name, c.Room.Visibility = *roomName, *roomVis
			}
		}
		if lastID != nil {
			m, err := msg.message()
			if err != nil {
				return nil, err
			}
			c.LastMessage = &m
		}
		list = append(list, c)
	}
	return list, rows.Err()
}

// markRoomReadSQL moves the read mark to now (never backwards), clears the
// count and writes conversation-read, in one statement. The conversation row
// exists exactly while the reader is a member (schema: the membership
// triggers), so marking nothing means not a member, or no such room.
const markRoomReadSQL = `WITH marked AS (
  UPDATE conversations
  SET unread_count = 0,
      last_read_at = CASE WHEN last_read_at IS NULL OR last_read_at < now() THEN now() ELSE last_read_at END
  WHERE user_id = $1::text AND id = 'room:' || $2::text
  RETURNING id, last_read_at
), told AS (
  INSERT INTO events (channel, event, data, recipients)
  SELECT chatwire_user_channel($1::text), 'conversation-read',
         jsonb_build_object('conversation_id', id, 'read_at', chatwire_time(last_read_at), 'unread_count', 0),
         ARRAY[$1::text]
  FROM marked
)
SELECT EXISTS (SELECT 1 FROM rooms WHERE id = $2::text), (SELECT last_read_at FROM marked)`

// MarkRoomRead moves the reader's read mark of the room to now and returns
// the conversation-read event: one batch, one round trip, one implicit
// transaction (see InsertMessage).
func (db *DB) MarkRoomRead(ctx context.Context, readerID, roomID string) (res chat.RoomRead, err error) {
	if err := checkText("room_id", roomID, "sender", readerID); err != nil {
		return res, err
	}
	b := &pgx.Batch{}
	b.Queue(markRoomReadSQL, readerID, roomID)
	b.Queue(ownEventsSQL)
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	br := db.pool.SendBatch(ctx, b)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("store: mark room read: %w", cerr)
		}
	}()
	var (
		exists bool
		readAt *time.Time
	)
	if err := br.QueryRow().Scan(&exists, &readAt); err != nil {
		return res, fmt.Errorf("store: mark room read: %w", inputError(err))
	}
	if res.Events, err = collectEvents(br.Query()); err != nil {
		return res, fmt.Errorf("store: mark room read: read events: %w", err)
	}
	switch {
	case !exists:
		return chat.RoomRead{}, notFound("room_id", "room not found")
	case readAt == nil:
		return chat.RoomRead{}, forbidden("room_id", "not a member of this room")
	}
	res.ReadAt = *readAt
	return res, nil
}
