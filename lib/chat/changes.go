package chat

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Limits of edits and reactions (API.md, "Inbox").
const (
	MaxEmojiBytes = 32
	// MaxReactionUsers is how many users a reaction summary names per emoji.
	MaxReactionUsers = 10
)

// MessageChangeStore changes stored messages. Each change is one transaction
// that bumps the message's version and returns the events it wrote; a change
// that changes nothing returns Changed false, the message as it is and no
// events.
type MessageChangeStore interface {
	// EditMessage replaces the body of the editor's own message: ENOTFOUND
	// for an unknown id, EFORBIDDEN for someone else's message, ECONFLICT for
	// a deleted one.
	EditMessage(ctx context.Context, editorID, messageID, body string) (ChangedMessage, error)
	// DeleteMessage turns the user's own message into a tombstone (no body,
	// no attachment, deleted_at set). A tombstone stays as it is.
	DeleteMessage(ctx context.Context, userID, messageID string) (ChangedMessage, error)
	// React adds (On) or takes back the user's reaction with the emoji. Any
	// participant of the message's chat or member of its room may react
	// (EFORBIDDEN otherwise); a deleted message takes no new reactions.
	React(ctx context.Context, userID string, r ReactionChange) (ChangedMessage, error)
}

// ChangedMessage is the outcome of a MessageChangeStore change.
type ChangedMessage struct {
	Message Message
	Changed bool
	Events  []Event
}

// ReactionChange is one user's reaction being added or taken back.
type ReactionChange struct {
	MessageID string
	Emoji     string
	On        bool
}

// EditInput is the body of POST /api/messages/edit.
type EditInput struct {
	ID   string `json:"id" validate:"required,uuid"`
	Body string `json:"body"`
}

// DeleteInput is the body of POST /api/messages/delete.
type DeleteInput struct {
	ID string `json:"id" validate:"required,uuid"`
}

// ReactInput is the body of POST /api/messages/react.
type ReactInput struct {
	ID    string `json:"id" validate:"required,uuid"`
	Emoji string `json:"emoji" validate:"required"`
	On    *bool  `json:"on" validate:"required"`
}

// ChangeAnswer is the answer of an edit or delete.
type ChangeAnswer struct {
	Message Message `json:"message"`
	// Published is false when the change's events wait for the outbox; a
	// change that changed nothing had nothing to send and says true.
	Published bool `json:"published"`
}

// ReactAnswer is the answer of a reaction: the reaction-changed data.
type ReactAnswer struct {
	MessageID string          `json:"message_id"`
	Channel   string          `json:"channel"`
	Emoji     string          `json:"emoji"`
	UserID    string          `json:"user_id"`
	On        bool            `json:"on"`
	Reactions []ReactionCount `json:"reactions"`
	Version   int             `json:"version"`
	Published bool            `json:"published"`
}

// Edit replaces the body of the user's own message and sends
// message-updated. It is held to send's limits and rate limit. An unchanged
// body changes nothing and sends nothing.
func (s *Service) Edit(ctx context.Context, user User, in EditInput) (ChangeAnswer, error) {
	in.Body = strings.TrimSpace(in.Body)
	if err := s.check(in); err != nil {
		return ChangeAnswer{}, err
	}
	if n := utf8.RuneCountInString(in.Body); n > MaxBodyChars {
		return ChangeAnswer{}, FieldError("body", "at most 4000 characters")
	}
	if !utf8.ValidString(in.Body) {
		return ChangeAnswer{}, FieldError("body", "must be valid UTF-8")
	}
	if err := s.checkSendRate(ctx, user); err != nil {
		return ChangeAnswer{}, err
	}
	res, err := s.store.EditMessage(ctx, user.ID, in.ID, in.Body)
	if err != nil {
		return ChangeAnswer{}, err
	}
	if err := s.signAttachment(ctx, res.Message.SenderID, res.Message.Attachment); err != nil {
		return ChangeAnswer{}, err
	}
	return ChangeAnswer{Message: res.Message, Published: !res.Changed || s.publish(ctx, res.Events)}, nil
}

// Delete turns the user's own message into a tombstone and sends
// message-deleted; deleting a tombstone again answers it and sends nothing.
func (s *Service) Delete(ctx context.Context, user User, in DeleteInput) (ChangeAnswer, error) {
	if err := s.check(in); err != nil {
		return ChangeAnswer{}, err
	}
	res, err := s.store.DeleteMessage(ctx, user.ID, in.ID)
	if err != nil {
		return ChangeAnswer{}, err
	}
	return ChangeAnswer{Message: res.Message, Published: !res.Changed || s.publish(ctx, res.Events)}, nil
}

// React adds or takes back the user's reaction and sends reaction-changed;
// a repeat changes nothing and sends nothing.
func (s *Service) React(ctx context.Context, user User, in ReactInput) (ReactAnswer, error) {
	if err := s.check(in); err != nil {
		return ReactAnswer{}, err
	}
	if !IsEmoji(in.Emoji) {
		return ReactAnswer{}, FieldError("emoji", "one emoji (one grapheme cluster of at most 32 bytes)")
	}
	res, err := s.store.React(ctx, user.ID, ReactionChange{MessageID: in.ID, Emoji: in.Emoji, On: *in.On})
	if err != nil {
		return ReactAnswer{}, err
	}
	reactions := res.Message.Reactions
	if reactions == nil {
		reactions = []ReactionCount{}
	}
	return ReactAnswer{
		MessageID: res.Message.ID, Channel: res.Message.Channel, Emoji: in.Emoji, UserID: user.ID, On: *in.On,
		Reactions: reactions, Version: res.Message.Version,
		Published: !res.Changed || s.publish(ctx, res.Events),
	}, nil
}

// IsEmoji reports whether s is one emoji: valid UTF-8, at most MaxEmojiBytes,
// exactly one grapheme cluster, made of a pictographic symbol (or a keycap)
// with nothing that is a letter, digit, space or control character on its own.
func IsEmoji(s string) bool {
	if s == "" || len(s) > MaxEmojiBytes || !utf8.ValidString(s) {
		return false
	}
	if uniseg.GraphemeClusterCount(s) != 1 {
		return false
	}
	symbol := false
	for _, r := range s {
		switch {
		case unicode.IsControl(r), unicode.IsSpace(r):
			return false
		case unicode.Is(unicode.So, r), r == '\u20E3': // So: emoji, flags' regional indicators; U+20E3: keycaps
			symbol = true
		}
	}
	return symbol
}
