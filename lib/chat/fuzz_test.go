package chat_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/chatwire/chatwire/lib/chat"
)

// FuzzParseChannel holds ParseChannel to its promise: a name that parses is
// the one canonical name of what it parsed to, a valid Pusher channel name
// within the length limit.
func FuzzParseChannel(f *testing.F) {
	for _, c := range loadVectors(f).Chat {
		f.Add(c.Channel)
	}
	for _, seed := range []string{
		"private-room-r1", "private-user-auth0=7C64f1", "presence-user-bob",
		"private-chat-bob-alice", "private-chat-a=2Db-c", "private-user-a=2d", "private-user-",
		"private-chat-", "private-chat--", "private-room-=", "presence-user-=00", "private-chat-a-a",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		p, err := chat.ParseChannel(name)
		if err != nil {
			return
		}
		if len(name) > chat.MaxChannelLength || !pusherChannelName.MatchString(name) {
			t.Fatalf("ParseChannel accepted %q, which Pusher refuses", name)
		}
		var canonical string
		switch p.Kind {
		case chat.ChannelChat:
			if len(p.IDs) != 2 {
				t.Fatalf("chat channel %q parsed to %d ids", name, len(p.IDs))
			}
			canonical = chat.ChatChannel(p.IDs[0], p.IDs[1])
		case chat.ChannelRoom:
			canonical = chat.RoomChannel(p.IDs[0])
		case chat.ChannelUser:
			canonical = chat.UserChannel(p.IDs[0])
		case chat.ChannelPresence:
			canonical = chat.PresenceChannel(p.IDs[0])
		default:
			t.Fatalf("ParseChannel(%q) accepted kind %v", name, p.Kind)
		}
		if canonical != name {
			t.Fatalf("ParseChannel(%q) = %+v, whose canonical name is %q", name, p, canonical)
		}
		for _, id := range p.IDs {
			if id == "" {
				t.Fatalf("ParseChannel(%q) yields an empty id", name)
			}
		}
	})
}

// memberStore answers IsRoomMember for one room and one member; any other
// store method is a nil interface and panics.
type memberStore struct {
	chat.Store
	room, member string
}

func (m memberStore) IsRoomMember(_ context.Context, roomID, userID string) (bool, error) {
	return roomID == m.room && userID == m.member, nil
}

// FuzzAuthorizeChannel: whatever the user id and channel name, a grant goes
// only to a user the channel belongs to: a chat's two users, the owner of a
// user or presence channel, a current member of a room.
func FuzzAuthorizeChannel(f *testing.F) {
	f.Add("alice", "private-chat-alice-bob")
	f.Add("bob", "private-chat-alice-bob")
	f.Add("carol", "private-chat-alice-bob")
	f.Add("alice", "private-room-r1")
	f.Add("bob", "private-room-r1")
	f.Add("auth0|1", "presence-user-auth0=7C1")
	f.Add("auth0|1", "presence-user-auth0|1")
	f.Add("a-b", "private-chat-a=2Db-c")
	f.Add("", "private-user-")
	svc := chat.NewService(memberStore{room: "r1", member: "alice"}, nil, slog.New(slog.NewJSONHandler(io.Discard, nil)), chat.Options{})
	f.Fuzz(func(t *testing.T, user, channel string) {
		grant, err := svc.AuthorizeChannel(context.Background(), chat.User{ID: user, Name: "N"}, channel)
		if err != nil {
			if chat.ErrorCode(err) != chat.EFORBIDDEN {
				t.Fatalf("AuthorizeChannel(%q, %q): %v, want forbidden", user, channel, err)
			}
			return
		}
		p, perr := chat.ParseChannel(channel)
		if perr != nil {
			t.Fatalf("granted %q to %q, but it does not parse: %v", channel, user, perr)
		}
		switch p.Kind {
		case chat.ChannelChat:
			if p.IDs[0] != user && p.IDs[1] != user {
				t.Fatalf("granted chat %q to %q, not one of its users", channel, user)
			}
		case chat.ChannelUser:
			if p.IDs[0] != user {
				t.Fatalf("granted %q to %q", channel, user)
			}
		case chat.ChannelPresence:
			if p.IDs[0] != user || grant.Presence == nil || grant.Presence.UserID != user {
				t.Fatalf("granted %q to %q with member %+v", channel, user, grant.Presence)
			}
		case chat.ChannelRoom:
			if p.IDs[0] != "r1" || user != "alice" {
				t.Fatalf("granted room %q to %q, not a member", channel, user)
			}
		default:
			t.Fatalf("granted %q of kind %v", channel, p.Kind)
		}
	})
}
