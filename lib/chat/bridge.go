package chat

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
)

// DatabaseWebhook is a Supabase database webhook: one row a writer other than
// chatwire inserted, updated or deleted.
type DatabaseWebhook struct {
	Type      string          `json:"type"`
	Table     string          `json:"table"`
	Schema    string          `json:"schema"`
	Record    json.RawMessage `json:"record"`
	OldRecord json.RawMessage `json:"old_record"`
}

// RowEvents names the events the schema's triggers wrote for one row.
type RowEvents struct {
	// MessageID: the new-message and message-notification events of the
	// message (by dedupe key), and the message-read, message-updated,
	// message-deleted and reaction-changed events naming it.
	MessageID string
	// RoomID and UserID: the user-joined events of that member (by dedupe
	// key prefix), or with Left its user-left events.
	RoomID string
	UserID string
	Left   bool
}

// RelayResult is the answer of RelayDatabaseWebhook.
type RelayResult struct {
	Published int `json:"published"`
}

// RelayDatabaseWebhook publishes the still unpublished events of the row the
// webhook names. The foreign writer's transaction already wrote them (the
// triggers run for every writer); the webhook only makes delivery prompt.
// The events are claimed with row locks that skip rows another call holds and
// marked published in the same transaction, so a repeated, late or concurrent
// webhook of the same row publishes nothing more.
//
// A deleted message sends nothing: the v1 contract has no message-deleted
// event. With realtime disabled nothing is published (poll serves the events).
func (s *Service) RelayDatabaseWebhook(ctx context.Context, hook DatabaseWebhook) (RelayResult, error) {
	row, err := s.rowEvents(hook)
	if err != nil {
		return RelayResult{}, err
	}
	if row == nil || s.publisher == nil {
		return RelayResult{Published: 0}, nil
	}
	n, err := s.store.ClaimRowEvents(ctx, *row, s.deliver)
	if errors.Is(err, errPublish) {
		s.log.WarnContext(ctx, "relay: publish failed; the outbox redelivers", "err", err)
		return RelayResult{}, Errorf(EUNAVAILABLE, "Pusher did not accept the events; the outbox redelivers them")
	}
	if err != nil {
		return RelayResult{}, err
	}
	return RelayResult{Published: n}, nil
}

// rowEvents validates the webhook and says which events it is about; nil
// means none.
func (s *Service) rowEvents(hook DatabaseWebhook) (*RowEvents, error) {
	typ := strings.ToUpper(hook.Type)
	switch typ {
	case "INSERT", "UPDATE", "DELETE":
	case "":
		return nil, FieldError("type", "required")
	default:
		return nil, FieldError("type", "must be INSERT, UPDATE or DELETE")
	}
	// A delete carries the row in old_record only.
	field, raw := "record", hook.Record
	if typ == "DELETE" {
		field, raw = "old_record", hook.OldRecord
	}
	if hook.Table != "messages" && hook.Table != "room_members" {
		if hook.Table == "" {
			return nil, FieldError("table", "required")
		}
		return nil, FieldError("table", "must be messages or room_members")
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil, FieldError(field, "required")
	}
	var rec struct {
		ID     *string `json:"id"`
		RoomID *string `json:"room_id"`
		UserID *string `json:"user_id"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, FieldError(field, "must be an object whose id, room_id and user_id are strings")
	}
	if hook.Table == "messages" {
		if rec.ID == nil || s.validate.Var(*rec.ID, "uuid") != nil {
			return nil, FieldError(field+".id", "must be a message id (UUID)")
		}
		if typ == "DELETE" {
			return nil, nil
		}
		return &RowEvents{MessageID: strings.ToLower(*rec.ID)}, nil
	}
	switch {
	case rec.RoomID == nil || *rec.RoomID == "":
		return nil, FieldError(field+".room_id", "required")
	case rec.UserID == nil || *rec.UserID == "":
		return nil, FieldError(field+".user_id", "required")
	}
	return &RowEvents{RoomID: *rec.RoomID, UserID: *rec.UserID, Left: typ == "DELETE"}, nil
}
