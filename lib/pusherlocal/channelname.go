package pusherlocal

import (
	"fmt"
	"strings"
)

// maxChannelNameLength is Pusher's limit for channel names.
const maxChannelNameLength = 164

// channelKind is what a channel's name prefix makes it.
type channelKind int

const (
	publicChannel channelKind = iota
	privateChannel
	presenceChannel
	encryptedChannel
)

func kindOf(channel string) channelKind {
	switch {
	case strings.HasPrefix(channel, "private-encrypted-"):
		return encryptedChannel
	case strings.HasPrefix(channel, "private-"):
		return privateChannel
	case strings.HasPrefix(channel, "presence-"):
		return presenceChannel
	default:
		return publicChannel
	}
}

// needsAuth reports whether subscribing needs a signature from the app.
func (k channelKind) needsAuth() bool { return k != publicChannel }

// acceptsClientEvents reports whether clients may trigger client-* events,
// which Pusher allows only on authenticated channels.
func (k channelKind) acceptsClientEvents() bool {
	return k == privateChannel || k == presenceChannel
}

// validateChannelName applies Pusher's rules: 1 to 164 characters out of
// [A-Za-z0-9_\-=@,.;].
func validateChannelName(name string) error {
	if name == "" {
		return fmt.Errorf("channel name is empty")
	}
	if len(name) > maxChannelNameLength {
		return fmt.Errorf("channel name is %d characters long, the limit is %d", len(name), maxChannelNameLength)
	}
	for i := 0; i < len(name); i++ {
		if !isChannelNameByte(name[i]) {
			return fmt.Errorf("channel name contains %q at position %d; allowed are A-Z a-z 0-9 _ - = @ , . ;", name[i], i)
		}
	}
	return nil
}

func isChannelNameByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("_-=@,.;", c) >= 0
}
