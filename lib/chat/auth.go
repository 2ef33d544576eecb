package chat

import "context"

// ChannelGrant is what a user may be told when subscribing to a channel.
type ChannelGrant struct {
	// Presence is set for presence channels: the member data Pusher shares.
	Presence *PresenceMember
}

// PresenceMember is the channel_data of a presence subscription.
type PresenceMember struct {
	UserID string            `json:"user_id"`
	Info   map[string]string `json:"user_info"`
}

// AuthorizeChannel decides whether the user may subscribe to a channel:
// a chat only its two users, a room only its current members, a user's own
// private and presence channels only that user. Anything else is EFORBIDDEN.
func (s *Service) AuthorizeChannel(ctx context.Context, user User, channel string) (ChannelGrant, error) {
	parsed, err := ParseChannel(channel)
	if err != nil {
		return ChannelGrant{}, &Error{Code: EFORBIDDEN, Message: "unknown channel", Fields: map[string]string{"channel_name": err.Error()}}
	}
	forbidden := Errorf(EFORBIDDEN, "you may not subscribe to %s", channel)
	switch parsed.Kind {
	case ChannelChat:
		if parsed.IDs[0] != user.ID && parsed.IDs[1] != user.ID {
			return ChannelGrant{}, forbidden
		}
	case ChannelUser:
		if parsed.IDs[0] != user.ID {
			return ChannelGrant{}, forbidden
		}
	case ChannelPresence:
		if parsed.IDs[0] != user.ID {
			return ChannelGrant{}, forbidden
		}
		return ChannelGrant{Presence: &PresenceMember{UserID: user.ID, Info: map[string]string{"name": user.Name}}}, nil
	case ChannelRoom:
		member, err := s.store.IsRoomMember(ctx, parsed.IDs[0], user.ID)
		if err != nil {
			return ChannelGrant{}, err
		}
		if !member {
			return ChannelGrant{}, forbidden
		}
	default:
		return ChannelGrant{}, forbidden
	}
	return ChannelGrant{}, nil
}
