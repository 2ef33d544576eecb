package chat

import (
	"context"
	"fmt"
	"time"
)

// RateLimit allows each user Count sends per Per, as a token bucket: a burst
// of up to Count, refilled evenly over Per. The zero value is no limit.
type RateLimit struct {
	Count int
	Per   time.Duration
}

// Enabled reports whether the limit limits anything.
func (l RateLimit) Enabled() bool { return l.Count > 0 && l.Per > 0 }

// String writes the limit as SEND_RATE_LIMIT takes it: "20/10s".
func (l RateLimit) String() string {
	if !l.Enabled() {
		return "off"
	}
	return fmt.Sprintf("%d/%s", l.Count, l.Per)
}

// RateLimitStore keeps the send buckets where every function instance sees
// them: a limit per instance would multiply by the number of instances.
type RateLimitStore interface {
	// TakeSendToken takes one send from the user's bucket; when it is empty
	// it takes nothing and returns how long until a send is available.
	TakeSendToken(ctx context.Context, userID string, limit RateLimit) (wait time.Duration, err error)
	// TakeActionToken is TakeSendToken for another action's bucket
	// (ActionRoomCreate, ActionRoomAdd).
	TakeActionToken(ctx context.Context, action, userID string, limit RateLimit) (wait time.Duration, err error)
}

// Actions with a bucket of their own besides sending. Typing starts spend
// from "typing" inside StartTyping.
const (
	ActionRoomCreate = "room_create"
	ActionRoomAdd    = "room_add"
)

// checkSendRate takes one send from the user's bucket or answers
// ERATELIMITED with the wait, which httpapi sends as Retry-After.
func (s *Service) checkSendRate(ctx context.Context, user User) error {
	if !s.sendRateLimit.Enabled() {
		return nil
	}
	wait, err := s.store.TakeSendToken(ctx, user.ID, s.sendRateLimit)
	if err != nil {
		return err
	}
	return rateLimited("messages", s.sendRateLimit, wait)
}

// checkActionRate takes one token of the user's bucket for action, or
// answers ERATELIMITED; what names the action in the message.
func (s *Service) checkActionRate(ctx context.Context, action, what string, user User, limit RateLimit) error {
	if !limit.Enabled() {
		return nil
	}
	wait, err := s.store.TakeActionToken(ctx, action, user.ID, limit)
	if err != nil {
		return err
	}
	return rateLimited(what, limit, wait)
}

// rateLimited is the ERATELIMITED error for a refused take with its wait,
// which httpapi sends as Retry-After; nil when nothing was refused.
func rateLimited(what string, limit RateLimit, wait time.Duration) error {
	if wait <= 0 {
		return nil
	}
	ms := max(wait.Milliseconds(), 1)
	return &Error{
		Code:         ERATELIMITED,
		Message:      fmt.Sprintf("too many %s: at most %d per %s; try again in %d ms", what, limit.Count, limit.Per, ms),
		RetryAfterMS: ms,
	}
}
