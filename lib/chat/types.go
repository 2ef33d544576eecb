package chat

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// User is a signed-in caller, as lib/auth reads it from the JWT.
type User struct {
	ID   string
	Name string
}

// Attachment is a message's file: either an upload to chatwire's storage (ID
// set; URL is a fresh signed URL added on the way out, never stored) or a
// link the sender hosts elsewhere (URL only, stored as given).
type Attachment struct {
	ID          string `json:"id,omitempty" validate:"omitempty,uuid"`
	URL         string `json:"url,omitempty" validate:"required_without=ID,excluded_with=ID,omitempty,url,startswith=https://,max=2048"`
	Name        string `json:"name,omitempty" validate:"excluded_with=ID,max=255"`
	Size        int64  `json:"size,omitempty" validate:"excluded_with=ID,gte=0"`
	ContentType string `json:"content_type,omitempty" validate:"excluded_with=ID,max=255"`
}

// Message is a stored chat message, in a 1:1 chat (ReceiverID) or a room (RoomID).
type Message struct {
	ID         string
	ClientID   *string
	Channel    string
	SenderID   string
	ReceiverID *string
	RoomID     *string
	Body       string
	Attachment *Attachment
	CreatedAt  time.Time
	ReadAt     *time.Time
	// Version is 1 when created, +1 per edit, delete or change of reactions.
	Version   int
	EditedAt  *time.Time
	DeletedAt *time.Time
	// Reactions summarises who reacted with what, in order of first use.
	Reactions []ReactionCount
}

// ReactionCount is one emoji's reactions to a message: how many, and the
// first MaxReactionUsers users who reacted.
type ReactionCount struct {
	Emoji string   `json:"emoji"`
	Count int      `json:"count"`
	Users []string `json:"users"`
}

// MarshalJSON writes the API.md Message object; times use FormatTime, as the
// events written by the database do.
func (m Message) MarshalJSON() ([]byte, error) {
	reactions := m.Reactions
	if reactions == nil {
		reactions = []ReactionCount{}
	}
	return json.Marshal(struct {
		ID         string          `json:"id"`
		ClientID   *string         `json:"client_id"`
		Channel    string          `json:"channel"`
		SenderID   string          `json:"sender_id"`
		ReceiverID *string         `json:"receiver_id"`
		RoomID     *string         `json:"room_id"`
		Body       string          `json:"body"`
		Attachment *Attachment     `json:"attachment"`
		CreatedAt  string          `json:"created_at"`
		ReadAt     *string         `json:"read_at"`
		Version    int             `json:"version"`
		EditedAt   *string         `json:"edited_at"`
		DeletedAt  *string         `json:"deleted_at"`
		Reactions  []ReactionCount `json:"reactions"`
	}{m.ID, m.ClientID, m.Channel, m.SenderID, m.ReceiverID, m.RoomID, m.Body, m.Attachment,
		FormatTime(m.CreatedAt), formatOptionalTime(m.ReadAt), m.Version,
		formatOptionalTime(m.EditedAt), formatOptionalTime(m.DeletedAt), reactions})
}

// formatOptionalTime is FormatTime for a time that may be unset (JSON null).
func formatOptionalTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := FormatTime(*t)
	return &s
}

// FormatTime is the one time format of the API: UTC with milliseconds and 'Z'.
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// Event is one row of the event log: a fact on a channel, told to clients by
// Pusher and by poll.
type Event struct {
	// Seq is the row's serial; it names the row when it is marked published.
	Seq       int64
	Cursor    Cursor
	Channel   string
	Name      string
	Data      json.RawMessage
	CreatedAt time.Time
}

// MarshalJSON writes the event as poll returns it.
func (e Event) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID        string          `json:"id"`
		Channel   string          `json:"channel"`
		Event     string          `json:"event"`
		Data      json.RawMessage `json:"data"`
		CreatedAt string          `json:"created_at"`
	}{e.Cursor.String(), e.Channel, e.Name, e.Data, FormatTime(e.CreatedAt)})
}

// Cursor is a position in the event log: the writing transaction's id, then the
// row's serial. Poll hands out events in cursor order.
type Cursor struct {
	XID uint64
	Seq int64
}

// String encodes the cursor for clients, who treat it as opaque.
func (c Cursor) String() string {
	return strconv.FormatUint(c.XID, 10) + "_" + strconv.FormatInt(c.Seq, 10)
}

// After reports whether c comes after d in the log.
func (c Cursor) After(d Cursor) bool {
	return c.XID > d.XID || c.XID == d.XID && c.Seq > d.Seq
}

// ParseCursor reads a cursor written by Cursor.String.
func ParseCursor(s string) (Cursor, error) {
	x, q, ok := strings.Cut(s, "_")
	if !ok {
		return Cursor{}, fmt.Errorf("cursor %q: missing separator", s)
	}
	xid, err := strconv.ParseUint(x, 10, 64)
	if err != nil {
		return Cursor{}, fmt.Errorf("cursor %q: %w", s, err)
	}
	seq, err := strconv.ParseInt(q, 10, 64)
	if err != nil || seq < 0 {
		return Cursor{}, fmt.Errorf("cursor %q: bad sequence", s)
	}
	return Cursor{XID: xid, Seq: seq}, nil
}
