package chat

import "context"

// Poll limits (API.md).
const (
	MaxPollLimit     = 500
	DefaultPollLimit = 100
)

// PollInput is the query of GET /api/messages/poll.
type PollInput struct {
	Cursor string `json:"cursor" validate:"max=64"`
	Limit  int    `json:"limit" validate:"gte=0,lte=500"`
}

// PollResult is the answer of Poll.
type PollResult struct {
	Events []Event `json:"events"`
	Cursor string  `json:"cursor"`
	More   bool    `json:"more"`
}

// Poll returns the events after the cursor on the channels the user may
// subscribe to. Without a cursor it returns none and the current cursor, so a
// client starts from now and never skips what commits after.
func (s *Service) Poll(ctx context.Context, user User, in PollInput) (PollResult, error) {
	if err := s.check(in); err != nil {
		return PollResult{}, err
	}
	if in.Limit == 0 {
		in.Limit = DefaultPollLimit
	}
	if in.Cursor == "" {
		cur, err := s.store.CurrentCursor(ctx)
		if err != nil {
			return PollResult{}, err
		}
		return PollResult{Events: []Event{}, Cursor: cur.String()}, nil
	}
	after, err := ParseCursor(in.Cursor)
	if err != nil {
		return PollResult{}, FieldError("cursor", "not a cursor this server issued")
	}
	page, err := s.store.Poll(ctx, user.ID, after, in.Limit)
	if err != nil {
		return PollResult{}, err
	}
	if page.Events == nil {
		page.Events = []Event{}
	}
	return PollResult{Events: s.signEvents(ctx, page.Events, true), Cursor: page.Next.String(), More: page.More}, nil
}
