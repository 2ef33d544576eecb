package chat

import (
	"bytes"
	"context"
	"encoding/json"
)

// The event log stores a new-message event without the signed URL of its
// file: a URL written at commit would be expired by the time the outbox
// redelivers the event or a client polls it days later, and it would put a
// bearer credential in a table. The URL is added when the event leaves: at
// each publish and in each poll answer, so it is always fresh for its reader.

// signingPublisher adds fresh file URLs to new-message events before the
// real publisher sends them.
type signingPublisher struct {
	next    Publisher
	service *Service
}

func (p signingPublisher) Publish(ctx context.Context, events []Event) error {
	return p.next.Publish(ctx, p.service.signEvents(ctx, events))
}

// signEvents returns events with a signed URL in every uploaded file of a
// new-message event. It copies only the events it changes; an event it cannot
// sign is sent as it is (the client can still fetch /api/attachments/{id}).
func (s *Service) signEvents(ctx context.Context, events []Event) []Event {
	if s.files.Storage == nil {
		return events
	}
	var out []Event
	for i, e := range events {
		data, changed := s.signEventData(ctx, e)
		if !changed {
			continue
		}
		if out == nil {
			out = append([]Event(nil), events...)
		}
		out[i].Data = data
	}
	if out == nil {
		return events
	}
	return out
}

var uploadMarker = []byte(`"content_type"`)

func (s *Service) signEventData(ctx context.Context, e Event) (json.RawMessage, bool) {
	// Text messages (the common case) carry "attachment": null and never
	// "content_type": skip them without decoding.
	if e.Name != "new-message" || !bytes.Contains(e.Data, uploadMarker) {
		return nil, false
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(e.Data, &data); err != nil {
		return nil, false
	}
	var sender string
	var a *Attachment
	if json.Unmarshal(data["sender_id"], &sender) != nil || json.Unmarshal(data["attachment"], &a) != nil ||
		a == nil || a.ID == "" || a.URL != "" {
		return nil, false
	}
	if err := s.signAttachment(ctx, sender, a); err != nil {
		s.log.WarnContext(ctx, "sign attachment in event failed", "err", err)
		return nil, false
	}
	signed, err := json.Marshal(a)
	if err != nil {
		return nil, false
	}
	data["attachment"] = signed
	out, err := json.Marshal(data)
	if err != nil {
		return nil, false
	}
	return out, true
}
