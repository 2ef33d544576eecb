package chat

import (
	"context"
	"encoding/json"
	"fmt"
)

// TypingInput is the body of POST /api/typing.
type TypingInput struct {
	To     string `json:"to" validate:"required_without=RoomID,excluded_with=RoomID,max=150"`
	RoomID string `json:"room_id" validate:"max=150"`
	Typing *bool  `json:"typing" validate:"required"`
}

// TypingAnswer is the answer of Typing.
type TypingAnswer struct {
	Sent         bool  `json:"sent"`
	RetryAfterMS int64 `json:"retry_after_ms,omitempty"`
}

// Typing tells the other side of a chat or room that the user started or
// stopped typing. Starts are throttled across every instance; stops always go.
// Typing is ephemeral: it is published directly, never stored as an event.
func (s *Service) Typing(ctx context.Context, user User, in TypingInput) (TypingAnswer, error) {
	if err := s.check(in); err != nil {
		return TypingAnswer{}, err
	}
	channel, err := s.conversationChannel(ctx, user, in.To, in.RoomID)
	if err != nil {
		return TypingAnswer{}, err
	}
	if s.publisher == nil {
		// Typing is only ever pushed; without realtime there is nothing to do.
		return TypingAnswer{Sent: false}, nil
	}
	name := "typing-stop"
	if *in.Typing {
		name = "typing-start"
		wait, err := s.store.StartTyping(ctx, user.ID, channel, s.typingInterval)
		if err != nil {
			return TypingAnswer{}, err
		}
		if wait > 0 {
			return TypingAnswer{Sent: false, RetryAfterMS: max(wait.Milliseconds(), 1)}, nil
		}
	}
	data, err := json.Marshal(map[string]string{"user_id": user.ID, "name": user.Name})
	if err != nil {
		return TypingAnswer{}, fmt.Errorf("typing: encode: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, s.publishTimeout)
	defer cancel()
	if err := s.publisher.Publish(pctx, []Event{{Channel: channel, Name: name, Data: data}}); err != nil {
		return TypingAnswer{}, Errorf(EUNAVAILABLE, "typing indicator could not be delivered")
	}
	return TypingAnswer{Sent: true}, nil
}

// conversationChannel is the channel of a chat with another user or of a room
// the user belongs to.
func (s *Service) conversationChannel(ctx context.Context, user User, to, roomID string) (string, error) {
	if to != "" {
		if to == user.ID {
			return "", FieldError("to", "cannot be yourself")
		}
		ch := ChatChannel(user.ID, to)
		if len(ch) > MaxChannelLength {
			return "", FieldError("to", "user id too long for a channel name")
		}
		return ch, nil
	}
	ch := RoomChannel(roomID)
	if len(ch) > MaxChannelLength {
		return "", FieldError("room_id", "room id too long for a channel name")
	}
	member, err := s.store.IsRoomMember(ctx, roomID, user.ID)
	if err != nil {
		return "", err
	}
	if !member {
		return "", &Error{Code: EFORBIDDEN, Message: "not a member of this room", Fields: map[string]string{"room_id": "not a member"}}
	}
	return ch, nil
}
