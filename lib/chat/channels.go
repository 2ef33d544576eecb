package chat

import (
	"fmt"
	"strings"
)

// MaxChannelLength is Pusher's limit on channel names.
const MaxChannelLength = 164

// Channel name prefixes (API.md, "Channels").
const (
	chatPrefix     = "private-chat-"
	roomPrefix     = "private-room-"
	userPrefix     = "private-user-"
	presencePrefix = "presence-user-"
)

const hexDigits = "0123456789ABCDEF"

// Enc writes an id into a channel name: every byte outside [A-Za-z0-9_] becomes
// '=' followed by two upper-case hex digits. The output never contains '-', so
// "private-chat-{x}-{y}" splits unambiguously, and '=' itself is encoded, so two
// different ids never encode alike. schema's chatwire_enc is the same function.
func Enc(id string) string {
	if isPlain(id) {
		return id
	}
	var b strings.Builder
	b.Grow(len(id) * 3)
	for i := 0; i < len(id); i++ {
		c := id[i]
		if isPlainByte(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('=')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0x0F])
	}
	return b.String()
}

// Dec reverses Enc; ok is false when s is not an encoding Enc can produce.
func Dec(s string) (id string, ok bool) {
	if isPlain(s) {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isPlainByte(c) {
			b.WriteByte(c)
			continue
		}
		if c != '=' || i+2 >= len(s) {
			return "", false
		}
		hi, lo := unhex(s[i+1]), unhex(s[i+2])
		if hi < 0 || lo < 0 {
			return "", false
		}
		v := byte(hi<<4 | lo)
		if isPlainByte(v) {
			return "", false // Enc never escapes a plain byte
		}
		b.WriteByte(v)
		i += 2
	}
	return b.String(), true
}

func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isPlainByte(s[i]) {
			return false
		}
	}
	return true
}

func isPlainByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// unhex accepts only the upper-case digits Enc writes, so every id has one encoding.
func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// ChatChannel is the private channel of the 1:1 chat between a and b; both users
// get the same name because the encoded ids are ordered bytewise.
func ChatChannel(a, b string) string {
	x, y := Enc(a), Enc(b)
	if y < x {
		x, y = y, x
	}
	return chatPrefix + x + "-" + y
}

// RoomChannel is the private channel of a room.
func RoomChannel(roomID string) string { return roomPrefix + Enc(roomID) }

// UserChannel is a user's own private channel (notifications, status changes).
func UserChannel(userID string) string { return userPrefix + Enc(userID) }

// PresenceChannel is the presence channel whose occupancy is the user's online status.
func PresenceChannel(userID string) string { return presencePrefix + Enc(userID) }

// ChannelKind says what a channel name addresses.
type ChannelKind int

// The kinds of channel chatwire serves.
const (
	ChannelUnknown ChannelKind = iota
	ChannelChat
	ChannelRoom
	ChannelUser
	ChannelPresence
)

// ParsedChannel is a channel name taken apart.
type ParsedChannel struct {
	Kind ChannelKind
	// IDs holds the decoded ids: both users of a chat, else the one room or user id.
	IDs []string
}

// ParseChannel takes a channel name apart. It accepts exactly the names the
// *Channel functions produce, so a name that parses is the one canonical name.
func ParseChannel(name string) (ParsedChannel, error) {
	if len(name) > MaxChannelLength {
		return ParsedChannel{}, fmt.Errorf("channel name longer than %d characters", MaxChannelLength)
	}
	single := func(kind ChannelKind, rest string) (ParsedChannel, error) {
		id, ok := Dec(rest)
		if !ok || rest == "" {
			return ParsedChannel{}, fmt.Errorf("malformed id in channel %q", name)
		}
		return ParsedChannel{Kind: kind, IDs: []string{id}}, nil
	}
	switch {
	case strings.HasPrefix(name, chatPrefix):
		x, y, found := strings.Cut(strings.TrimPrefix(name, chatPrefix), "-")
		if !found || x == "" || y == "" || x > y {
			return ParsedChannel{}, fmt.Errorf("malformed chat channel %q", name)
		}
		a, okA := Dec(x)
		b, okB := Dec(y)
		if !okA || !okB {
			return ParsedChannel{}, fmt.Errorf("malformed id in channel %q", name)
		}
		return ParsedChannel{Kind: ChannelChat, IDs: []string{a, b}}, nil
	case strings.HasPrefix(name, roomPrefix):
		return single(ChannelRoom, strings.TrimPrefix(name, roomPrefix))
	case strings.HasPrefix(name, userPrefix):
		return single(ChannelUser, strings.TrimPrefix(name, userPrefix))
	case strings.HasPrefix(name, presencePrefix):
		return single(ChannelPresence, strings.TrimPrefix(name, presencePrefix))
	}
	return ParsedChannel{}, fmt.Errorf("unknown channel %q", name)
}
