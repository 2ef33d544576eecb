package chat

import (
	"context"
	"time"
)

// MaxReadIDs bounds one read receipt request.
const MaxReadIDs = 500

// ReadInput is the body of POST /api/messages/read: message ids, everything
// unread from one user, or a room (its read mark moves to now).
type ReadInput struct {
	MessageIDs []string `json:"message_ids" validate:"required_without_all=With RoomID,excluded_with=With,excluded_with=RoomID,max=500,dive,uuid"`
	With       string   `json:"with" validate:"excluded_with=RoomID,max=150"`
	RoomID     string   `json:"room_id" validate:"max=150"`
}

// ReadAnswer is the answer of MarkRead.
type ReadAnswer struct {
	// Read lists the messages this call marked; ones already read are left out.
	Read   []string `json:"read"`
	ReadAt string   `json:"read_at"`
}

// MarkRead marks messages the user received as read and publishes
// message-read (to the chat) and conversation-read (to the reader's devices).
// Any id the user did not receive fails the whole request. A room read is
// MarkRoomRead.
func (s *Service) MarkRead(ctx context.Context, reader User, in ReadInput) (ReadAnswer, error) {
	if err := s.check(in); err != nil {
		return ReadAnswer{}, err
	}
	if in.RoomID != "" {
		return ReadAnswer{}, Errorf(EINTERNAL, "a room read goes to MarkRoomRead")
	}
	var (
		res ReadResult
		err error
	)
	if in.With != "" {
		res, err = s.store.MarkReadFrom(ctx, reader.ID, in.With)
	} else {
		res, err = s.store.MarkRead(ctx, reader.ID, in.MessageIDs)
	}
	if err != nil {
		return ReadAnswer{}, err
	}
	s.publish(ctx, res.Events)
	if res.IDs == nil {
		res.IDs = []string{}
	}
	if res.ReadAt.IsZero() {
		res.ReadAt = time.Now()
	}
	return ReadAnswer{Read: res.IDs, ReadAt: FormatTime(res.ReadAt)}, nil
}
