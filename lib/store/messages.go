package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/chat"
)

// messageColumns is the select list every message query returns; messageRow
// scans it. The attachment travels as text for every query exec mode alike.
const messageColumns = `id::text, client_id, sender_id, receiver_id, room_id, body, attachment::text, created_at, read_at,
version, edited_at, deleted_at, reactions::text`

// upsertSender is the statement that records a sender's display name, with
// the given parameters for the sender, the name and the room, reading from
// (an extra FROM item, or "") and gate (an extra condition, or "true").
//
// When the name is already recorded (the usual case) the SELECT yields no row
// and nothing is written or locked: ON CONFLICT DO UPDATE would lock the users
// row even when its WHERE skips the update, queueing every concurrent send of
// the same user behind one another until commit. For a room message it writes
// only when the sender is a member, so a refused send writes nothing.
func upsertSender(sender, name, room, from, gate string) string {
	return `INSERT INTO users (id, name)
SELECT ` + sender + `::text, ` + name + `::text` + from + `
WHERE ` + gate + `
  AND NOT EXISTS (SELECT 1 FROM users WHERE id = ` + sender + `::text AND (` + name + `::text IS NULL OR name = ` + name + `::text))
  AND (` + room + `::text IS NULL
       OR EXISTS (SELECT 1 FROM room_members WHERE room_id = ` + room + `::text AND user_id = ` + sender + `::text))
ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name
WHERE EXCLUDED.name IS NOT NULL AND users.name IS DISTINCT FROM EXCLUDED.name`
}

// upsertSenderSQL records the sender ($1) and name ($2) for a room ($3, or
// NULL) on its own (see upsertSender).
var upsertSenderSQL = upsertSender("$1", "$2", "$3", "", "true")

// sendSQL writes one send in one statement: it takes a token from the
// sender's bucket (take), records the sender's display name (sender, see
// upsertSender) and inserts the message (ins), the last two only when the
// bucket allowed it. The AFTER INSERT trigger on messages runs when the whole
// statement is done, so its notification sees the name just recorded.
//
// $1 sender, $2 bucket capacity, $3 refill period in microseconds, $4 name,
// $5 room, $6 client_id, $7 receiver, $8 body, $9 attachment.
//
// ins: ON CONFLICT DO NOTHING makes a repeated client_id insert nothing; when
// the first insert is still in flight in another transaction, Postgres waits
// for it and then does nothing, so the duplicate never errors. The membership
// check is part of the insert, so a member who leaves concurrently cannot
// slip a message in between a check and the write.
//
// The statement returns one row: the bucket's answer and the inserted
// message, or NULLs when nothing was inserted.
var sendSQL = `WITH take AS (%s),
sender AS (
` + upsertSender("$1", "$4", "$5", " FROM take", "take.allowed") + `
),
ins AS (
  INSERT INTO messages (client_id, sender_id, receiver_id, room_id, body, attachment)
  SELECT $6::text, $1::text, $7::text, $5::text, $8::text, $9::text::jsonb FROM take
  WHERE take.allowed
    AND ($5::text IS NULL
         OR EXISTS (SELECT 1 FROM room_members WHERE room_id = $5::text AND user_id = $1::text))
  ON CONFLICT (sender_id, client_id) WHERE client_id IS NOT NULL DO NOTHING
  RETURNING ` + messageColumns + `
)
SELECT take.allowed, take.tokens, ins.* FROM take LEFT JOIN ins ON true`

// sendLimitedSQL takes a token from the bucket (takeSendTokenSQL); sendFreeSQL
// has no limit and only names $2 and $3 so that every parameter has a type.
var (
	sendLimitedSQL = fmt.Sprintf(sendSQL, takeSendTokenSQL)
	sendFreeSQL    = fmt.Sprintf(sendSQL, `SELECT true AS allowed, NULL::float8 AS tokens, $2::float8 AS capacity, $3::float8 AS per_us`)
)

// sendEventsSQL reads the events the trigger wrote in this transaction (see
// ownEventsSQL) and records the events earlier sends published ($1): their
// pending rows are deleted here, in this send's commit, instead of in one of
// their own. SKIP LOCKED: a row a redelivery holds is left to it.
const sendEventsSQL = `WITH acked AS (
  DELETE FROM events_pending WHERE event_id IN (
    SELECT event_id FROM events_pending WHERE event_id = ANY ($1::bigint[])
    FOR UPDATE SKIP LOCKED)
)
` + ownEventsSQL

const messageByClientIDSQL = `SELECT ` + messageColumns + `
FROM messages WHERE sender_id = $1::text AND client_id = $2::text`

// InsertMessage stores a message with no rate limit and nothing else to
// acknowledge: SendMessage for callers that only write.
func (db *DB) InsertMessage(ctx context.Context, sender chat.User, m chat.NewMessage) (chat.SavedMessage, error) {
	return db.SendMessage(ctx, chat.SendWrite{Sender: sender, Message: m})
}

// SendMessage takes a token from the sender's bucket, stores the message and
// acknowledges w.Published, and returns the message with the events the
// trigger wrote for it (new-message and, for a 1:1 chat, message-notification).
// When the bucket is empty it stores nothing and returns RetryAfter.
//
// It is one round trip and one commit: a pgx.Batch sent outside an explicit
// transaction runs its statements in one implicit transaction in every query
// exec mode (the extended-protocol modes send one Sync after the last
// statement; the simple protocol sends the statements as one multi-statement
// query), so the bucket, the user, the message, its events and the
// acknowledgements commit or roll back together, and an error in one
// statement skips the rest. Only a repeated client_id (a client's retry)
// costs a second round trip, to read the message the first attempt stored:
// it runs after the batch, so it also sees a duplicate that a concurrent
// attempt committed while the insert waited for it.
func (db *DB) SendMessage(ctx context.Context, w chat.SendWrite) (chat.SavedMessage, error) {
	sender, m := w.Sender, w.Message
	if (m.ReceiverID == "") == (m.RoomID == "") {
		return chat.SavedMessage{}, chat.Errorf(chat.EINVALID, "a message goes to exactly one of a user or a room")
	}
	if err := checkText("to", m.ReceiverID, "room_id", m.RoomID, "body", m.Body, "client_id", m.ClientID,
		"sender", sender.ID, "name", sender.Name); err != nil {
		return chat.SavedMessage{}, err
	}
	if a := m.Attachment; a != nil {
		if err := checkText("attachment", a.URL, "attachment", a.Name, "attachment", a.ContentType); err != nil {
			return chat.SavedMessage{}, err
		}
	}
	attachment, err := attachmentArg(m.Attachment)
	if err != nil {
		return chat.SavedMessage{}, fmt.Errorf("store: insert message: %w", err)
	}
	clientID, room := nullable(m.ClientID), nullable(m.RoomID)

	b := &pgx.Batch{}
	query, capacity, perUS := sendFreeSQL, 0.0, 0.0
	if w.RateLimit.Enabled() {
		query, capacity, perUS = sendLimitedSQL, float64(w.RateLimit.Count), float64(w.RateLimit.Per.Microseconds())
	}
	b.Queue(query, sender.ID, capacity, perUS, nullable(sender.Name), room, clientID, nullable(m.ReceiverID), m.Body, attachment)
	published := w.Published
	if published == nil {
		published = []int64{}
	}
	b.Queue(sendEventsSQL, published)

	ctx, cancel := db.deadline(ctx)
	defer cancel()
	saved, inserted, err := db.sendInsert(ctx, b, w.RateLimit)
	if err != nil {
		return chat.SavedMessage{}, fmt.Errorf("store: insert message: %w", inputError(attachmentError(err)))
	}
	if saved.RetryAfter > 0 || inserted {
		return saved, nil
	}
	if clientID != nil {
		existing, err := collectMessages(db.pool.Query(ctx, messageByClientIDSQL, sender.ID, m.ClientID))
		if err != nil {
			return chat.SavedMessage{}, fmt.Errorf("store: insert message: find by client_id: %w", err)
		}
		if len(existing) > 0 {
			return chat.SavedMessage{Message: existing[0]}, nil
		}
	}
	if room == nil {
		// Without a client_id the insert cannot do nothing.
		return chat.SavedMessage{}, fmt.Errorf("store: insert message: nothing inserted")
	}
	exists, err := db.roomExists(ctx, m.RoomID)
	if err != nil {
		return chat.SavedMessage{}, fmt.Errorf("store: insert message: %w", err)
	}
	if !exists {
		return chat.SavedMessage{}, notFound("room_id", "room not found")
	}
	return chat.SavedMessage{}, forbidden("room_id", "not a member of this room")
}

// sendInsert sends SendMessage's batch and reads its results in order.
// inserted is false when nothing was inserted: a repeated client_id, or a
// room message from a non-member. An empty bucket sets RetryAfter.
func (db *DB) sendInsert(ctx context.Context, b *pgx.Batch, limit chat.RateLimit) (saved chat.SavedMessage, inserted bool, err error) {
	br := db.pool.SendBatch(ctx, b)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	var (
		allowed bool
		tokens  *float64
		row     nullableMessageRow
	)
	if err := br.QueryRow().Scan(append([]any{&allowed, &tokens}, row.dest()...)...); err != nil {
		return saved, false, fmt.Errorf("send: %w", err)
	}
	events, err := collectEvents(br.Query())
	if err != nil {
		return saved, false, fmt.Errorf("read events: %w", err)
	}
	if !allowed {
		saved.RetryAfter = refillWait(false, *tokens, limit)
		return saved, false, nil
	}
	if row.id != nil {
		m, err := row.message()
		if err != nil {
			return saved, false, err
		}
		return chat.SavedMessage{Message: m, Created: true, Events: events}, true, nil
	}
	return saved, false, nil
}

func (db *DB) roomExists(ctx context.Context, roomID string) (bool, error) {
	var ok bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM rooms WHERE id = $1::text)`, roomID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("find room: %w", err)
	}
	return ok, nil
}

// IsRoomMember reports whether the user currently belongs to the room.
func (db *DB) IsRoomMember(ctx context.Context, roomID, userID string) (bool, error) {
	if err := checkText("room_id", roomID, "user_id", userID); err != nil {
		return false, err
	}
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	var ok bool
	err := db.pool.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM room_members WHERE room_id = $1::text AND user_id = $2::text)`,
		roomID, userID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("store: is room member: %w", err)
	}
	return ok, nil
}

// messageRow is one row of messageColumns.
type messageRow struct {
	id         string
	clientID   *string
	senderID   string
	receiverID *string
	roomID     *string
	body       string
	attachment *string
	createdAt  time.Time
	readAt     *time.Time
	version    int
	editedAt   *time.Time
	deletedAt  *time.Time
	reactions  string
}

func (r *messageRow) dest() []any {
	return []any{&r.id, &r.clientID, &r.senderID, &r.receiverID, &r.roomID, &r.body, &r.attachment, &r.createdAt, &r.readAt,
		&r.version, &r.editedAt, &r.deletedAt, &r.reactions}
}

func (r *messageRow) message() (chat.Message, error) {
	m := chat.Message{
		ID: r.id, ClientID: r.clientID, SenderID: r.senderID, ReceiverID: r.receiverID,
		RoomID: r.roomID, Body: r.body, CreatedAt: r.createdAt, ReadAt: r.readAt,
		Version: r.version, EditedAt: r.editedAt, DeletedAt: r.deletedAt,
	}
	switch {
	case r.roomID != nil:
		m.Channel = chat.RoomChannel(*r.roomID)
	case r.receiverID != nil:
		m.Channel = chat.ChatChannel(r.senderID, *r.receiverID)
	}
	// Most messages have no reactions: skip decoding the empty list.
	if r.reactions != "[]" {
		if err := json.Unmarshal([]byte(r.reactions), &m.Reactions); err != nil {
			return chat.Message{}, fmt.Errorf("message %s: reactions: %w", r.id, err)
		}
	}
	m.Attachment = readAttachment(r.attachment)
	return m, nil
}

// readAttachment decodes a stored attachment defensively. Rows written
// before schema 3's CHECK, or by another writer, may hold any JSON; such an
// attachment reads as none, so a chat's history never fails on one bad row.
// An upload (schema 6) is stored with its id and no URL: chat signs one.
func readAttachment(stored *string) *chat.Attachment {
	if stored == nil {
		return nil
	}
	var a chat.Attachment
	if err := json.Unmarshal([]byte(*stored), &a); err != nil || a.URL == "" && a.ID == "" {
		return nil
	}
	return &a
}

// nullableMessageRow is messageColumns of an outer join: all NULL when no
// message was inserted.
type nullableMessageRow struct {
	id, clientID, senderID, receiverID, roomID, body, attachment *string
	createdAt, readAt                                            *time.Time
	version                                                      *int
	editedAt, deletedAt                                          *time.Time
	reactions                                                    *string
}

func (r *nullableMessageRow) dest() []any {
	return []any{&r.id, &r.clientID, &r.senderID, &r.receiverID, &r.roomID, &r.body, &r.attachment, &r.createdAt, &r.readAt,
		&r.version, &r.editedAt, &r.deletedAt, &r.reactions}
}

// message reads a row whose id is not NULL: the other NOT NULL columns are set too.
func (r *nullableMessageRow) message() (chat.Message, error) {
	row := messageRow{
		id: *r.id, clientID: r.clientID, senderID: *r.senderID, receiverID: r.receiverID, roomID: r.roomID,
		body: *r.body, attachment: r.attachment, createdAt: *r.createdAt, readAt: r.readAt,
		version: *r.version, editedAt: r.editedAt, deletedAt: r.deletedAt, reactions: *r.reactions,
	}
	return row.message()
}

// collectMessages reads rows of messageColumns; it takes Query's two results.
func collectMessages(rows pgx.Rows, err error) ([]chat.Message, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var msgs []chat.Message
	var r messageRow
	for rows.Next() {
		r = messageRow{}
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, err
		}
		m, err := r.message()
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
	}
	return msgs, rows.Err()
}

// attachmentArg encodes the attachment as JSON text (nil for none); text rather
// than bytes because a []byte parameter would be sent as binary in exec mode.
func attachmentArg(a *chat.Attachment) (*string, error) {
	if a == nil {
		return nil, nil
	}
	b, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("encode attachment: %w", err)
	}
	s := string(b)
	return &s, nil
}

// nullable turns "" into SQL NULL.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func forbidden(field, msg string) *chat.Error {
	return &chat.Error{Code: chat.EFORBIDDEN, Message: msg, Fields: map[string]string{field: msg}}
}

func notFound(field, msg string) *chat.Error {
	return &chat.Error{Code: chat.ENOTFOUND, Message: msg, Fields: map[string]string{field: msg}}
}
