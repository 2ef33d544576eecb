package chat

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// Limits of the conversation list (API.md, "Inbox").
const (
	MaxConversationsLimit = 100
	DefaultConversations  = 30
)

// Conversation kinds.
const (
	KindChat = "chat"
	KindRoom = "room"
)

// ConversationStore keeps the per-user conversation list, which the database
// maintains as messages, reads and memberships change.
type ConversationStore interface {
	// Conversations returns up to q.Limit of the user's conversations, most
	// recent activity first, strictly after q.Before when it is set.
	Conversations(ctx context.Context, q ConversationQuery) ([]Conversation, error)
	// MarkRoomRead moves the reader's read mark of the room to now and
	// returns the conversation-read event. A room that does not exist is
	// ENOTFOUND, one the reader is not in EFORBIDDEN.
	MarkRoomRead(ctx context.Context, readerID, roomID string) (RoomRead, error)
}

// ConversationQuery selects one page of a user's conversation list.
type ConversationQuery struct {
	UserID string
	Before *ConversationCursor
	Limit  int
}

// ConversationCursor is a position in the list: the (updated_at, id) of the
// last conversation of the previous page. It is a position, not an id,
// because a conversation moves up when a message arrives.
type ConversationCursor struct {
	UpdatedAt time.Time
	ID        string
}

// String encodes the cursor for clients, who treat it as opaque.
func (c ConversationCursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.UpdatedAt.UTC().Format(time.RFC3339Nano) + " " + c.ID))
}

// ParseConversationCursor reads a cursor written by ConversationCursor.String.
func ParseConversationCursor(s string) (ConversationCursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return ConversationCursor{}, FieldError("before", "not a cursor from next_before")
	}
	at, id, ok := strings.Cut(string(raw), " ")
	t, err := time.Parse(time.RFC3339Nano, at)
	if !ok || err != nil || id == "" {
		return ConversationCursor{}, FieldError("before", "not a cursor from next_before")
	}
	return ConversationCursor{UpdatedAt: t, ID: id}, nil
}

// Conversation is one entry of a user's conversation list: a 1:1 chat (With)
// or a room (Room).
type Conversation struct {
	ID          string
	Kind        string
	Channel     string
	With        *ConversationUser
	Room        *ConversationRoom
	LastMessage *Message
	UnreadCount int
	LastReadAt  *time.Time
	UpdatedAt   time.Time
}

// ConversationUser is the other side of a chat.
type ConversationUser struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ConversationRoom is the room a conversation is about.
type ConversationRoom struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Visibility string `json:"visibility"`
}

// MarshalJSON writes the API.md Conversation object: "with" for chats and
// "room" for rooms, the other left out.
func (c Conversation) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID          string            `json:"id"`
		Kind        string            `json:"kind"`
		Channel     string            `json:"channel"`
		With        *ConversationUser `json:"with,omitempty"`
		Room        *ConversationRoom `json:"room,omitempty"`
		LastMessage *Message          `json:"last_message"`
		UnreadCount int               `json:"unread_count"`
		LastReadAt  *string           `json:"last_read_at"`
		UpdatedAt   string            `json:"updated_at"`
	}{c.ID, c.Kind, c.Channel, c.With, c.Room, c.LastMessage, c.UnreadCount,
		formatOptionalTime(c.LastReadAt), FormatTime(c.UpdatedAt)})
}

// ConversationsInput is the query of GET /api/conversations.
type ConversationsInput struct {
	Before string `json:"before" validate:"max=400"`
	Limit  int    `json:"limit" validate:"gte=0,lte=100"`
}

// ConversationPage is one page of the list, most recent activity first.
type ConversationPage struct {
	Conversations []Conversation `json:"conversations"`
	// NextBefore continues the list; nil on the last page.
	NextBefore *string `json:"next_before"`
}

// Conversations returns a page of the user's conversation list.
func (s *Service) Conversations(ctx context.Context, user User, in ConversationsInput) (ConversationPage, error) {
	if err := s.check(in); err != nil {
		return ConversationPage{}, err
	}
	if in.Limit == 0 {
		in.Limit = DefaultConversations
	}
	q := ConversationQuery{UserID: user.ID, Limit: in.Limit + 1}
	if in.Before != "" {
		c, err := ParseConversationCursor(in.Before)
		if err != nil {
			return ConversationPage{}, err
		}
		q.Before = &c
	}
	list, err := s.store.Conversations(ctx, q)
	if err != nil {
		return ConversationPage{}, err
	}
	page := ConversationPage{Conversations: list}
	if len(list) > in.Limit {
		page.Conversations = list[:in.Limit]
		last := page.Conversations[in.Limit-1]
		next := ConversationCursor{UpdatedAt: last.UpdatedAt, ID: last.ID}.String()
		page.NextBefore = &next
	}
	if page.Conversations == nil {
		page.Conversations = []Conversation{}
	}
	// Every list gets fresh file URLs, as every history page does.
	for _, c := range page.Conversations {
		if c.LastMessage != nil {
			if err := s.signAttachment(ctx, c.LastMessage.SenderID, c.LastMessage.Attachment); err != nil {
				return ConversationPage{}, err
			}
		}
	}
	return page, nil
}

// RoomRead is the outcome of MarkRoomRead.
type RoomRead struct {
	ReadAt time.Time
	Events []Event
}

// RoomReadAnswer is the answer of POST /api/messages/read with a room_id.
type RoomReadAnswer struct {
	RoomID string `json:"room_id"`
	ReadAt string `json:"read_at"`
}

// MarkRoomRead moves the reader's read mark of a room to now and tells every
// device of the reader with conversation-read.
func (s *Service) MarkRoomRead(ctx context.Context, reader User, in ReadInput) (RoomReadAnswer, error) {
	if err := s.check(in); err != nil {
		return RoomReadAnswer{}, err
	}
	if in.RoomID == "" {
		return RoomReadAnswer{}, FieldError("room_id", "required")
	}
	res, err := s.store.MarkRoomRead(ctx, reader.ID, in.RoomID)
	if err != nil {
		return RoomReadAnswer{}, err
	}
	s.publish(ctx, res.Events)
	return RoomReadAnswer{RoomID: in.RoomID, ReadAt: FormatTime(res.ReadAt)}, nil
}
