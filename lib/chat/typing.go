package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// TypingInput is the body of POST /api/typing.
type TypingInput struct {
	To     string `json:"to" validate:"required_without=RoomID,excluded_with=RoomID,max=150"`
	RoomID string `json:"room_id" validate:"max=150"`
	Typing *bool  `json:"typing" validate:"required"`
}

// TypingStart is the outcome of Store.StartTyping.
type TypingStart struct {
	Sent bool
	// Limited is true when the user's bucket across all chats refused the
	// start (429), false when the per-chat throttle did (200, sent false).
	Limited bool
	Wait    time.Duration
}

// TypingAnswer is the answer of Typing.
type TypingAnswer struct {
	Sent         bool  `json:"sent"`
	RetryAfterMS int64 `json:"retry_after_ms,omitempty"`
}

// Typing tells the other side of a chat or room that the user started or
// stopped typing. Starts are throttled per chat (one per interval, answered
// sent:false with the wait) and limited per user across all chats
// (ERATELIMITED, 429); a stop goes only after a sent start not stopped yet,
// else it answers sent:false. All of it is shared by every instance. Typing
// is ephemeral: it is published directly, never stored as an event.
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
		start, err := s.store.StartTyping(ctx, user.ID, channel, s.typingInterval, s.limits.Typing)
		if err != nil {
			return TypingAnswer{}, err
		}
		if start.Limited {
			return TypingAnswer{}, rateLimited("typing events", s.limits.Typing, start.Wait)
		}
		if !start.Sent {
			return TypingAnswer{Sent: false, RetryAfterMS: max(start.Wait.Milliseconds(), 1)}, nil
		}
	} else {
		send, err := s.store.StopTyping(ctx, user.ID, channel)
		if err != nil {
			return TypingAnswer{}, err
		}
		if !send {
			return TypingAnswer{Sent: false}, nil
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
