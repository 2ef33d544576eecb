package chat

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxPresenceIDs bounds one GET /api/presence.
const MaxPresenceIDs = 100

// PresenceStore is the persistence of users' online status.
type PresenceStore interface {
	// ApplyPresence applies status changes, each only when its At is newer than
	// the user's last applied change, in one transaction. For every user whose
	// status actually changed it writes user-status-change events to the
	// private channels of the user's contacts and room co-members, and returns
	// those users and the events for publishing.
	ApplyPresence(ctx context.Context, changes []PresenceChange) (PresenceApplied, error)
	// Presence returns the status of each user as viewer may see it, in the
	// order asked: a user viewer may not see (see Service.Presence), and an
	// unknown one, is offline and never active.
	Presence(ctx context.Context, viewerID string, userIDs []string) ([]UserPresence, error)
}

// PresenceChange is one user going online or offline at a time Pusher reported.
type PresenceChange struct {
	UserID string
	Online bool
	At     time.Time
}

// PresenceApplied is the outcome of ApplyPresence.
type PresenceApplied struct {
	Changed []UserPresence
	Events  []Event
}

// UserPresence is a user's status as GET /api/presence and user-status-change tell it.
type UserPresence struct {
	UserID       string
	Online       bool
	LastActiveAt *time.Time
}

// MarshalJSON writes {"user_id","online","last_active_at"} with the API's time format.
func (p UserPresence) MarshalJSON() ([]byte, error) {
	var at *string
	if p.LastActiveAt != nil {
		s := FormatTime(*p.LastActiveAt)
		at = &s
	}
	return json.Marshal(struct {
		UserID       string  `json:"user_id"`
		Online       bool    `json:"online"`
		LastActiveAt *string `json:"last_active_at"`
	}{p.UserID, p.Online, at})
}

// WebhookEvent is one entry of a Pusher webhook's events array.
type WebhookEvent struct {
	Name    string
	Channel string
}

// PresenceWebhookResult is the answer of ApplyPresenceWebhook.
type PresenceWebhookResult struct {
	// Changed counts the users whose status changed.
	Changed   int  `json:"changed"`
	Published bool `json:"published"`
}

// ApplyPresenceWebhook turns a validated Pusher webhook into status changes:
// a presence-user-* channel occupied (or its member added) means the user is
// online, vacated (or member removed) offline. Other events and channels are
// ignored. Pusher sends the events of one webhook in order with one time, so
// the last event of a user wins. Late and repeated webhooks change nothing
// (see PresenceStore.ApplyPresence); the resulting events are published before
// returning.
func (s *Service) ApplyPresenceWebhook(ctx context.Context, at time.Time, events []WebhookEvent) (PresenceWebhookResult, error) {
	latest := map[string]bool{}
	for _, e := range events {
		var online bool
		switch e.Name {
		case "channel_occupied", "member_added":
			online = true
		case "channel_vacated", "member_removed":
			online = false
		default:
			continue
		}
		parsed, err := ParseChannel(e.Channel)
		if err != nil || parsed.Kind != ChannelPresence {
			continue
		}
		latest[parsed.IDs[0]] = online
	}
	if len(latest) == 0 {
		return PresenceWebhookResult{Published: true}, nil
	}
	changes := make([]PresenceChange, 0, len(latest))
	for id, online := range latest {
		changes = append(changes, PresenceChange{UserID: id, Online: online, At: at})
	}
	// One lock order for every transaction: concurrent webhooks never deadlock.
	sort.Slice(changes, func(i, j int) bool { return changes[i].UserID < changes[j].UserID })
	applied, err := s.store.ApplyPresence(ctx, changes)
	if err != nil {
		return PresenceWebhookResult{}, err
	}
	return PresenceWebhookResult{Changed: len(applied.Changed), Published: s.publish(ctx, applied.Events)}, nil
}

// PresenceInput is the query of GET /api/presence: comma-separated user ids.
type PresenceInput struct {
	UserIDs string
}

// PresenceAnswer is the answer of Presence.
type PresenceAnswer struct {
	Users []UserPresence `json:"users"`
}

// Presence returns the status of up to MaxPresenceIDs users as the viewer may
// see them, in the order asked (repeats dropped), for a page's first paint;
// later changes arrive as user-status-change events.
//
// A user's status is visible only to the users who share a room with them
// and the users they have written to in a 1:1 chat, unless they hide it
// (Preferences.PresenceHidden), and always to themselves. Anyone else reads
// them as offline and never active, the same as an unknown user.
// user-status-change and poll follow the same rule. When someone becomes
// visible (their first message to a user, a shared room) and is online, the
// viewer gets a user-status-change at once on their private-user channel,
// through the event log (schema/004_presence_privacy.sql).
func (s *Service) Presence(ctx context.Context, viewer User, in PresenceInput) (PresenceAnswer, error) {
	if strings.TrimSpace(in.UserIDs) == "" {
		return PresenceAnswer{}, FieldError("user_ids", "required")
	}
	parts := strings.Split(in.UserIDs, ",")
	if len(parts) > MaxPresenceIDs {
		return PresenceAnswer{}, FieldError("user_ids", "at most 100 ids")
	}
	seen := make(map[string]bool, len(parts))
	ids := make([]string, 0, len(parts))
	for _, p := range parts {
		id := strings.TrimSpace(p)
		switch {
		case id == "":
			return PresenceAnswer{}, FieldError("user_ids", "empty id in the list")
		case utf8.RuneCountInString(id) > 150:
			return PresenceAnswer{}, FieldError("user_ids", "id longer than 150 characters")
		case seen[id]:
			continue
		}
		seen[id] = true
		ids = append(ids, id)
	}
	users, err := s.store.Presence(ctx, viewer.ID, ids)
	if err != nil {
		return PresenceAnswer{}, err
	}
	return PresenceAnswer{Users: users}, nil
}
