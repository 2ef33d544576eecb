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

// SignFiles returns next with a fresh signed URL added to the file of every
// new-message event it publishes, as this service's own publishing does: for
// a publisher of the log outside the service (the relay). With files off, or
// no publisher, it returns next.
func (s *Service) SignFiles(next Publisher) Publisher {
	if next == nil || s.files.Storage == nil {
		return next
	}
	return signingPublisher{next: next, service: s}
}

// signingPublisher adds fresh file URLs to new-message events before the
// real publisher sends them.
type signingPublisher struct {
	next    Publisher
	service *Service
}

// Publish does not ask whether each file's message still carries it, as poll
// does: it often runs inside an outbox claim that holds a pool connection, and
// a second query could wait for the pool (two connections by default). Events
// are published within seconds of their commit; the late replay of the log is
// poll's.
func (p signingPublisher) Publish(ctx context.Context, events []Event) error {
	return p.next.Publish(ctx, p.service.signEvents(ctx, events, false))
}

// signEvents returns events with a signed URL in every uploaded file of a
// new-message event; with onlySent, only of those whose message still carries
// the file: an event stays in the log after its message is deleted, and a
// poll from an old cursor must not hand out the file again before the cron
// removes it. It copies only the events it changes; an event it cannot sign
// is sent as it is (the client can still fetch /api/attachments/{id}).
func (s *Service) signEvents(ctx context.Context, events []Event, onlySent bool) []Event {
	if s.files.Storage == nil {
		return events
	}
	type upload struct {
		data       map[string]json.RawMessage
		sender     string
		attachment *Attachment
	}
	uploads := map[int]upload{}
	var ids []string
	for i, e := range events {
		data, sender, a, ok := uploadOf(e)
		if !ok {
			continue
		}
		uploads[i] = upload{data, sender, a}
		ids = append(ids, a.ID)
	}
	if len(uploads) == 0 {
		return events
	}
	var sent map[string]bool
	if onlySent {
		var err error
		if sent, err = s.store.SentAttachments(ctx, ids); err != nil {
			s.log.WarnContext(ctx, "sign attachments in events: checking their messages failed", "err", err)
			return events
		}
	}
	var out []Event
	for i, u := range uploads {
		if onlySent && !sent[u.attachment.ID] {
			continue
		}
		data, ok := s.signEventData(ctx, u.data, u.sender, u.attachment)
		if !ok {
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

// uploadOf returns the decoded data, sender and uploaded file of a
// new-message event that carries one not yet signed.
func uploadOf(e Event) (data map[string]json.RawMessage, sender string, a *Attachment, ok bool) {
	// Both carry the whole message. Text messages (the common case) carry
	// "attachment": null and never "content_type": skip them without decoding.
	if (e.Name != "new-message" && e.Name != "message-updated") || !bytes.Contains(e.Data, uploadMarker) {
		return nil, "", nil, false
	}
	if err := json.Unmarshal(e.Data, &data); err != nil {
		return nil, "", nil, false
	}
	if json.Unmarshal(data["sender_id"], &sender) != nil || json.Unmarshal(data["attachment"], &a) != nil ||
		a == nil || a.ID == "" || a.URL != "" {
		return nil, "", nil, false
	}
	return data, sender, a, true
}

func (s *Service) signEventData(ctx context.Context, data map[string]json.RawMessage, sender string, a *Attachment) (json.RawMessage, bool) {
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
