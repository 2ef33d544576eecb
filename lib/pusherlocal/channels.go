package pusherlocal

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// channel is an occupied channel: it exists while it has subscribers.
type channel struct {
	name        string
	kind        channelKind
	subscribers map[*connection]struct{}
	members     map[string]*member // presence channels only, by user id
}

// subscribe adds c to a channel (already authorized) and answers it with
// subscription_succeeded. Everything happens under the lock so that the
// subscriber's snapshot and the member_added the others get are consistent.
func (s *Server) subscribe(c *connection, name string, kind channelKind, m presenceMember) {
	s.mu.Lock()
	defer s.mu.Unlock()

	ch := s.channels[name]
	if _, already := c.subscriptions[name]; already {
		// pusher-js re-subscribes after a reconnect on a new socket, never on
		// the same one; answering again keeps a confused client going.
		c.send(subscriptionSucceededFrame(ch))
		return
	}
	if len(c.subscriptions) >= s.cfg.MaxChannelsPerConnection {
		c.send(subscriptionErrorFrame(name, "LimitReached",
			fmt.Sprintf("Over the limit of %d channels per connection", s.cfg.MaxChannelsPerConnection), codeOverConnectionQuota))
		return
	}
	if ch == nil {
		ch = &channel{name: name, kind: kind, subscribers: make(map[*connection]struct{})}
		if kind == presenceChannel {
			ch.members = make(map[string]*member)
		}
		s.channels[name] = ch
		s.webhooks.channelOccupied(name)
	}
	ch.subscribers[c] = struct{}{}
	c.subscriptions[name] = m.UserID

	if kind == presenceChannel {
		if existing := ch.members[m.UserID]; existing != nil {
			existing.sockets++
		} else {
			ch.members[m.UserID] = &member{info: m.UserInfo, sockets: 1}
			added := encodeFrame(outboundFrame{Event: eventMemberAdded, Channel: name, Data: memberAddedData(m.UserID, m.UserInfo)})
			for other := range ch.subscribers {
				if other != c {
					other.send(added)
				}
			}
			s.webhooks.memberAdded(name, m.UserID)
		}
	}
	c.send(subscriptionSucceededFrame(ch))
}

func subscriptionSucceededFrame(ch *channel) []byte {
	data := stringData(struct{}{})
	if ch.kind == presenceChannel {
		data = presenceSnapshot(ch.members)
	}
	return encodeFrame(outboundFrame{Event: eventSubscriptionSucceeded, Channel: ch.name, Data: data})
}

// unsubscribe removes c from a channel; unknown channels are ignored, as
// Pusher ignores them.
func (s *Server) unsubscribe(c *connection, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unsubscribeLocked(c, name)
}

func (s *Server) unsubscribeLocked(c *connection, name string) {
	userID, subscribed := c.subscriptions[name]
	ch := s.channels[name]
	if !subscribed || ch == nil {
		return
	}
	delete(c.subscriptions, name)
	delete(ch.subscribers, c)

	if ch.kind == presenceChannel {
		if m := ch.members[userID]; m != nil {
			m.sockets--
			if m.sockets == 0 {
				delete(ch.members, userID)
				removed := encodeFrame(outboundFrame{Event: eventMemberRemoved, Channel: name, Data: memberRemovedData(userID)})
				for other := range ch.subscribers {
					other.send(removed)
				}
				s.webhooks.memberRemoved(name, userID)
			}
		}
	}
	if len(ch.subscribers) == 0 {
		delete(s.channels, name)
		s.webhooks.channelEmptied(name, ch.kind)
	}
}

// addConnection registers a new connection. It answers errClosing when the
// server is closing and errOverQuota when MaxConnections are open.
func (s *Server) addConnection(c *connection) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosing
	}
	if len(s.conns) >= s.cfg.MaxConnections {
		return errOverQuota
	}
	s.conns[c] = struct{}{}
	return nil
}

var (
	errClosing   = errors.New("server is shutting down")
	errOverQuota = errors.New("Over connection quota")
)

// removeConnection unsubscribes a finished connection from everything.
func (s *Server) removeConnection(c *connection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name := range c.subscriptions {
		s.unsubscribeLocked(c, name)
	}
	delete(s.conns, c)
}

// relayClientEvent sends a client event to every other subscriber; false when
// the sender is not subscribed to the channel.
func (s *Server) relayClientEvent(from *connection, name, event string, data json.RawMessage) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	userID, subscribed := from.subscriptions[name]
	ch := s.channels[name]
	if !subscribed || ch == nil {
		return false
	}
	frame := encodeFrame(outboundFrame{Event: event, Channel: name, Data: data, UserID: userID})
	for c := range ch.subscribers {
		if c != from {
			c.send(frame)
		}
	}
	return true
}

// publish delivers an event from the HTTP API to every subscriber of each
// channel, except the socket excludeSocketID. data is the event's data as
// the API received it, a string, and is sent to clients as a JSON string.
func (s *Server) publish(channels []string, event, data, excludeSocketID string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, name := range channels {
		ch := s.channels[name]
		if ch == nil {
			continue
		}
		frame := encodeFrame(outboundFrame{Event: event, Channel: name, Data: quoteJSON(data)})
		for c := range ch.subscribers {
			if c.socketID != excludeSocketID {
				c.send(frame)
			}
		}
	}
}

// channelInfo is what the HTTP API reports about one channel.
type channelInfo struct {
	Occupied          bool
	UserCount         int
	SubscriptionCount int
}

func (s *Server) channelInfo(name string) channelInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ch := s.channels[name]
	if ch == nil {
		return channelInfo{}
	}
	return channelInfo{Occupied: true, UserCount: len(ch.members), SubscriptionCount: len(ch.subscribers)}
}

// occupiedChannels lists occupied channels whose names start with prefix.
func (s *Server) occupiedChannels(prefix string) map[string]channelInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string]channelInfo)
	for name, ch := range s.channels {
		if strings.HasPrefix(name, prefix) {
			out[name] = channelInfo{Occupied: true, UserCount: len(ch.members), SubscriptionCount: len(ch.subscribers)}
		}
	}
	return out
}

// presenceUserIDs lists the members of a presence channel, sorted.
func (s *Server) presenceUserIDs(name string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := []string{}
	if ch := s.channels[name]; ch != nil {
		for id := range ch.members {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}
