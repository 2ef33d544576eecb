package pusherlocal

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// handleFrame dispatches one text frame from a client.
func (s *Server) handleFrame(c *connection, raw []byte) {
	if len(raw) > maxFrameBytes {
		c.send(errorFrame(codeMessageRejected, fmt.Sprintf("Message of %d bytes exceeds the limit of %d bytes", len(raw), maxFrameBytes)))
		return
	}
	frame, err := parseFrame(raw)
	if err != nil {
		c.send(errorFrame(0, "Invalid message: "+err.Error()))
		return
	}
	switch {
	case frame.Event == eventPing:
		c.send(encodeFrame(outboundFrame{Event: eventPong}))
	case frame.Event == eventPong:
		// Any frame counts as activity; the reader already noted it.
	case frame.Event == eventSubscribe:
		s.handleSubscribe(c, frame)
	case frame.Event == eventUnsubscribe:
		data, err := parseSubscribeData(frame.Data)
		if err != nil {
			c.send(errorFrame(0, "Invalid unsubscribe: "+err.Error()))
			return
		}
		s.unsubscribe(c, data.Channel)
	case strings.HasPrefix(frame.Event, clientEventPrefix):
		s.handleClientEvent(c, frame)
	default:
		c.send(errorFrame(0, fmt.Sprintf("Unsupported event %q", truncate(frame.Event, 64))))
	}
}

func (s *Server) handleSubscribe(c *connection, frame inboundFrame) {
	data, err := parseSubscribeData(frame.Data)
	if err != nil {
		c.send(errorFrame(0, "Invalid subscribe: "+err.Error()))
		return
	}
	channel := data.Channel
	if err := validateChannelName(channel); err != nil {
		c.send(subscriptionErrorFrame(truncate(channel, maxChannelNameLength), "InvalidChannel", "Invalid channel name: "+err.Error(), http.StatusBadRequest))
		return
	}
	kind := kindOf(channel)
	if kind == encryptedChannel {
		c.send(subscriptionErrorFrame(channel, "UnsupportedChannel",
			"private-encrypted- channels are not supported by this local Pusher server", http.StatusBadRequest))
		return
	}
	if kind.needsAuth() {
		message := channelAuthMessage(c.socketID, channel, data.ChannelData, kind)
		if !verifyChannelAuth(s.cfg.Key, s.cfg.Secret, data.Auth, message) {
			c.send(subscriptionErrorFrame(channel, "AuthError",
				fmt.Sprintf("Invalid signature: Expected HMAC SHA256 hex digest of %s", message), http.StatusUnauthorized))
			return
		}
	}
	var m presenceMember
	if kind == presenceChannel {
		m, err = parsePresenceMember(data.ChannelData)
		if err != nil {
			c.send(subscriptionErrorFrame(channel, "InvalidChannelData", err.Error(), http.StatusBadRequest))
			return
		}
	}
	s.subscribe(c, channel, kind, m)
}

// handleClientEvent relays a client-* event to the other subscribers of a
// private or presence channel, as Pusher does: never to public channels,
// only from a subscriber, never back to the sender, at most 10 per second.
func (s *Server) handleClientEvent(c *connection, frame inboundFrame) {
	kind := kindOf(frame.Channel)
	if !kind.acceptsClientEvents() {
		c.send(errorFrame(0, "Client events are only supported on private and presence channels"))
		return
	}
	if !c.clientEvents.allow() {
		c.send(errorFrame(codeClientEventRateLimited, "Client event rejected due to rate limit"))
		return
	}
	if len(frame.Event) > maxEventNameLength {
		c.send(errorFrame(0, fmt.Sprintf("Event name is longer than %d characters", maxEventNameLength)))
		return
	}
	data := frame.Data
	if len(data) == 0 {
		data = json.RawMessage(`null`)
	}
	if !s.relayClientEvent(c, frame.Channel, frame.Event, data) {
		c.send(errorFrame(0, fmt.Sprintf("Client event rejected: not subscribed to channel %s", frame.Channel)))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
