package chat

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"
)

// Limits of the message contract (API.md).
const (
	MaxBodyChars     = 4000
	MaxHistoryLimit  = 100
	DefaultHistory   = 50
	MaxClientIDChars = 64
)

// SendInput is the body of POST /api/messages/send.
type SendInput struct {
	To         string      `json:"to" validate:"required_without=RoomID,excluded_with=RoomID,max=150"`
	RoomID     string      `json:"room_id" validate:"max=150"`
	Body       string      `json:"body"`
	ClientID   string      `json:"client_id" validate:"max=64"`
	Attachment *Attachment `json:"attachment"`
}

// SendResult is the answer of Send.
type SendResult struct {
	Message Message `json:"message"`
	// Created is false when the client_id was already used: nothing new was stored or sent.
	Created   bool `json:"-"`
	Published bool `json:"published"`
}

// Send stores a message and publishes its events. A Pusher failure is not an
// error: the message is saved, Published is false and the outbox redelivers it.
func (s *Service) Send(ctx context.Context, sender User, in SendInput) (SendResult, error) {
	in.Body = strings.TrimSpace(in.Body)
	if err := s.check(in); err != nil {
		return SendResult{}, err
	}
	if err := validateSend(sender, in); err != nil {
		return SendResult{}, err
	}
	attachment := in.Attachment
	if attachment != nil && attachment.ID != "" {
		// Only a file message pays for this lookup and the storage HEAD;
		// the database binds the upload to the message in the insert.
		var err error
		if attachment, err = s.attachUpload(ctx, sender, in); err != nil {
			return SendResult{}, err
		}
	}
	// While this send is in flight, other requests of this process leave
	// their acknowledgements for a send to carry; this one carries what is
	// held now, and the last request to finish writes what is left.
	if !s.acks.begin(s.maxSendsInFlight) {
		return SendResult{}, s.overloaded()
	}
	var published []int64
	defer func() { s.finishAcks(ctx, published, true) }()
	carried := s.acks.take()
	saved, err := s.store.SendMessage(ctx, SendWrite{
		Sender: sender,
		Message: NewMessage{
			ClientID:   in.ClientID,
			ReceiverID: in.To,
			RoomID:     in.RoomID,
			Body:       in.Body,
			Attachment: attachment,
		},
		RateLimit: s.sendRateLimit,
		Published: carried,
	})
	if err != nil {
		// The transaction rolled back: the carried acknowledgements did not happen.
		s.acks.restore(carried)
		return SendResult{}, err
	}
	if saved.RetryAfter > 0 {
		return SendResult{}, rateLimited("messages", s.sendRateLimit, saved.RetryAfter)
	}
	if err := s.signAttachment(ctx, saved.Message.SenderID, saved.Message.Attachment); err != nil {
		return SendResult{}, err
	}
	if !saved.Created {
		return SendResult{Message: saved.Message, Created: false, Published: s.republishRetried(ctx, saved.Message.ID)}, nil
	}
	var ok bool
	published, ok = s.publishEvents(ctx, saved.Events)
	return SendResult{Message: saved.Message, Created: true, Published: ok}, nil
}

// republishRetried publishes what the first attempt of a retried send left
// pending (its publish failed, or its process died before publishing), and
// reports whether the message's events have now reached Pusher. A client
// retries exactly when something went wrong, so this is the moment to
// deliver; nothing is sent twice, since the claim takes only pending events.
// Events another request holds right now are that request's to publish and
// count as published. With realtime disabled nothing is ever published.
func (s *Service) republishRetried(ctx context.Context, messageID string) bool {
	if s.publisher == nil {
		return false
	}
	if _, err := s.store.ClaimRowEvents(ctx, RowEvents{MessageID: messageID}, s.deliver); err != nil {
		if !errors.Is(err, errPublish) {
			s.log.WarnContext(ctx, "retried send: claiming its pending events failed; the outbox redelivers them", "err", err)
		}
		return false
	}
	return true
}

func validateSend(sender User, in SendInput) error {
	if in.Attachment == nil && in.Body == "" {
		return FieldError("body", "required unless an attachment is given")
	}
	if n := utf8.RuneCountInString(in.Body); n > MaxBodyChars {
		return FieldError("body", "at most 4000 characters")
	}
	if !utf8.ValidString(in.Body) {
		return FieldError("body", "must be valid UTF-8")
	}
	if in.ClientID != "" && !isClientID(in.ClientID) {
		return FieldError("client_id", "1-64 of A-Z a-z 0-9 _ -")
	}
	if in.To != "" {
		if in.To == sender.ID {
			return FieldError("to", "cannot send a message to yourself")
		}
		if len(ChatChannel(sender.ID, in.To)) > MaxChannelLength {
			return FieldError("to", "user id too long for a channel name")
		}
	}
	if in.RoomID != "" && len(RoomChannel(in.RoomID)) > MaxChannelLength {
		return FieldError("room_id", "room id too long for a channel name")
	}
	return nil
}

func isClientID(s string) bool {
	if len(s) == 0 || len(s) > MaxClientIDChars {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isPlainByte(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

// HistoryInput is the query of GET /api/messages/history.
type HistoryInput struct {
	With   string `json:"with" validate:"required_without=RoomID,excluded_with=RoomID,max=150"`
	RoomID string `json:"room_id" validate:"max=150"`
	Before string `json:"before" validate:"omitempty,uuid"`
	Limit  int    `json:"limit" validate:"gte=0,lte=100"`
}

// HistoryPage is one page of history, newest first.
type HistoryPage struct {
	Messages []Message `json:"messages"`
	// NextBefore continues backwards; nil on the last page.
	NextBefore *string `json:"next_before"`
}

// History returns a page of a chat or room, newest first. Only the chat's two
// users and the room's current members may read it.
func (s *Service) History(ctx context.Context, user User, in HistoryInput) (HistoryPage, error) {
	if err := s.check(in); err != nil {
		return HistoryPage{}, err
	}
	if in.Limit == 0 {
		in.Limit = DefaultHistory
	}
	msgs, err := s.store.History(ctx, HistoryQuery{UserID: user.ID, With: in.With, RoomID: in.RoomID, Before: in.Before, Limit: in.Limit + 1})
	if err != nil {
		return HistoryPage{}, err
	}
	page := HistoryPage{Messages: msgs}
	if len(msgs) > in.Limit {
		page.Messages = msgs[:in.Limit]
		last := page.Messages[in.Limit-1].ID
		page.NextBefore = &last
	}
	if page.Messages == nil {
		page.Messages = []Message{}
	}
	if err := s.signMessages(ctx, page.Messages); err != nil {
		return HistoryPage{}, err
	}
	return page, nil
}
