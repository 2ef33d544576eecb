package chat

import (
	"context"
	"time"
)

// Store is the persistence chat needs; lib/store implements it on Postgres.
// Every method that changes something does it in one transaction and returns
// the events that transaction wrote, for the caller to publish.
type Store interface {
	// SchemaVersion is the number of the last migration the database ran,
	// 0 for none; an error means the database did not answer.
	SchemaVersion(ctx context.Context) (int32, error)

	// SendMessage takes a send from the sender's bucket, stores the message
	// (idempotent per sender and client_id), records the sender's display
	// name and the events w.Published as published, in one transaction. When
	// the bucket is empty it stores nothing and sets RetryAfter. When the
	// client_id was used before, it returns the first message with Created
	// false and no events. A room message from a non-member is an EFORBIDDEN
	// error.
	SendMessage(ctx context.Context, w SendWrite) (SavedMessage, error)
	// History returns up to q.Limit messages older than q.Before, newest first.
	History(ctx context.Context, q HistoryQuery) ([]Message, error)
	// CurrentCursor is the position before every event not yet final.
	CurrentCursor(ctx context.Context) (Cursor, error)
	// Poll returns final events after the cursor on channels the user may
	// subscribe to, and the cursor to continue from.
	Poll(ctx context.Context, userID string, after Cursor, limit int) (PollPage, error)
	// MarkRead marks messages received by the reader as read, all or nothing:
	// any id the reader did not receive is an EFORBIDDEN error.
	MarkRead(ctx context.Context, readerID string, messageIDs []string) (ReadResult, error)
	// MarkReadFrom marks everything unread the reader received from sender.
	MarkReadFrom(ctx context.Context, readerID, senderID string) (ReadResult, error)
	// StartTyping records a typing start to be sent, unless the user started
	// typing in that channel less than interval ago (throttled) or the
	// user's typing bucket across all chats is empty (limited); then it
	// says how long to wait.
	StartTyping(ctx context.Context, userID, channel string, interval time.Duration, limit RateLimit) (TypingStart, error)
	// StopTyping records a typing stop and reports whether to send it: only
	// after a sent start in that channel not stopped yet.
	StopTyping(ctx context.Context, userID, channel string) (bool, error)
	// IsRoomMember reports whether the user currently belongs to the room.
	IsRoomMember(ctx context.Context, roomID, userID string) (bool, error)
	// MarkPublished records that Pusher accepted these events, in a
	// transaction of its own.
	MarkPublished(ctx context.Context, seqs []int64) error

	RoomStore
	ConversationStore
	MessageChangeStore
	PreferenceStore
	PresenceStore
	OutboxStore
	RateLimitStore
	AttachmentStore
}

// Publisher delivers events to subscribed clients; lib/realtime implements it
// with Pusher. It must return once the events are accepted or ctx ends.
type Publisher interface {
	Publish(ctx context.Context, events []Event) error
}

// NewMessage is a message as the sender wrote it, validated.
type NewMessage struct {
	ClientID   string
	ReceiverID string
	RoomID     string
	Body       string
	Attachment *Attachment
}

// SendWrite is everything one send writes, in one transaction.
type SendWrite struct {
	Sender  User
	Message NewMessage
	// RateLimit is the sender's bucket, shared by every instance; zero: none.
	RateLimit RateLimit
	// Published lists events earlier requests published: this transaction
	// records them as published, so that acknowledging costs no commit of
	// its own (see publishAcks).
	Published []int64
}

// SavedMessage is the outcome of SendMessage.
type SavedMessage struct {
	Message Message
	Created bool
	Events  []Event
	// RetryAfter > 0: the sender's bucket was empty and nothing was stored;
	// a send is available after this long.
	RetryAfter time.Duration
}

// HistoryQuery selects a page of a chat (UserID with With) or a room (RoomID).
type HistoryQuery struct {
	UserID string
	With   string
	RoomID string
	Before string
	Limit  int
}

// PollPage is one answer of Store.Poll.
type PollPage struct {
	Events []Event
	Next   Cursor
	More   bool
}

// ReadResult is the outcome of marking messages read.
type ReadResult struct {
	IDs    []string
	ReadAt time.Time
	Events []Event
}
