package chat

import (
	"context"
	"fmt"
)

// MaxMutedChannels bounds a user's muted channels (API.md).
const MaxMutedChannels = 100

// PreferenceStore is the persistence of notification preferences, kept on the
// users row that the message trigger reads when it decides whether to write
// a message-notification.
type PreferenceStore interface {
	// Preferences returns the user's preferences, or the defaults (enabled,
	// nothing muted) for a user never seen.
	Preferences(ctx context.Context, userID string) (Preferences, error)
	// SetPreferences replaces the user's preferences (PresenceHidden only
	// when it is not nil), records the display name, and returns what was
	// stored with the events it wrote: when PresenceHidden changes, a
	// user-status-change to everyone who could see the user.
	SetPreferences(ctx context.Context, user User, p Preferences) (SavedPreferences, error)
}

// Preferences say whether and for which chats a user gets
// message-notification, and whether the user hides their online status.
type Preferences struct {
	Enabled bool `json:"enabled"`
	// MutedChannels lists channel names whose messages notify nobody; never nil.
	MutedChannels []string `json:"muted_channels"`
	// PresenceHidden hides the user's status from everyone (see
	// Service.Presence). Always set in what is read or stored; in a change,
	// nil leaves it as it is.
	PresenceHidden *bool `json:"presence_hidden"`
}

// SavedPreferences is what SetPreferences stored, and the events it wrote.
type SavedPreferences struct {
	Preferences
	Events []Event
}

// PreferencesInput is the body of PUT /api/notifications/preferences. The
// first two fields are required: a PUT replaces the preferences, and guessing
// a missing list would silently unmute or keep chats. presence_hidden is
// optional, so clients that predate it keep the user's choice.
type PreferencesInput struct {
	Enabled        *bool    `json:"enabled" validate:"required"`
	MutedChannels  []string `json:"muted_channels" validate:"required"`
	PresenceHidden *bool    `json:"presence_hidden"`
}

// Preferences returns the user's notification preferences.
func (s *Service) Preferences(ctx context.Context, user User) (Preferences, error) {
	p, err := s.store.Preferences(ctx, user.ID)
	if err != nil {
		return Preferences{}, err
	}
	if p.MutedChannels == nil {
		p.MutedChannels = []string{}
	}
	return p, nil
}

// SetPreferences validates and stores the user's notification preferences.
// Every muted channel must be one the user may subscribe to that carries
// messages: a chat of the user's own or a room. Repeats are dropped.
func (s *Service) SetPreferences(ctx context.Context, user User, in PreferencesInput) (Preferences, error) {
	if err := s.check(in); err != nil {
		return Preferences{}, err
	}
	muted, err := mutedChannels(user, in.MutedChannels)
	if err != nil {
		return Preferences{}, err
	}
	saved, err := s.store.SetPreferences(ctx, user, Preferences{Enabled: *in.Enabled, MutedChannels: muted, PresenceHidden: in.PresenceHidden})
	if err != nil {
		return Preferences{}, err
	}
	// Told at once; a failed publish stays in the outbox for redelivery.
	s.publish(ctx, saved.Events)
	p := saved.Preferences
	if p.MutedChannels == nil {
		p.MutedChannels = []string{}
	}
	return p, nil
}

// mutedChannels checks the list and drops repeats, keeping the first order.
// Room membership is not required: a mute may outlive a membership, and it
// tells the user nothing about the room.
func mutedChannels(user User, channels []string) ([]string, error) {
	if len(channels) > MaxMutedChannels {
		return nil, FieldError("muted_channels", fmt.Sprintf("at most %d channels", MaxMutedChannels))
	}
	out := make([]string, 0, len(channels))
	seen := make(map[string]bool, len(channels))
	for i, ch := range channels {
		parsed, err := ParseChannel(ch)
		if err != nil {
			return nil, FieldError("muted_channels", fmt.Sprintf("entry %d: not a channel name", i))
		}
		switch parsed.Kind {
		case ChannelRoom:
		case ChannelChat:
			if parsed.IDs[0] != user.ID && parsed.IDs[1] != user.ID {
				return nil, FieldError("muted_channels", fmt.Sprintf("entry %d: not a chat of yours", i))
			}
		default:
			return nil, FieldError("muted_channels", fmt.Sprintf("entry %d: only chat and room channels can be muted", i))
		}
		if !seen[ch] {
			seen[ch] = true
			out = append(out, ch)
		}
	}
	return out, nil
}
