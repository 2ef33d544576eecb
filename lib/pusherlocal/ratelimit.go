package pusherlocal

import "time"

// Pusher allows each connection 10 client events per second.
const (
	clientEventsPerSecond = 10
	maxEventNameLength    = 200
)

// clientEventLimiter is a token bucket holding up to one second's worth of
// client events. It is used by one connection's reader goroutine only.
type clientEventLimiter struct {
	tokens float64
	last   time.Time
	now    func() time.Time
}

func newClientEventLimiter() clientEventLimiter {
	return clientEventLimiter{tokens: clientEventsPerSecond, last: time.Now(), now: time.Now}
}

func (l *clientEventLimiter) allow() bool {
	now := l.now()
	l.tokens += now.Sub(l.last).Seconds() * clientEventsPerSecond
	if l.tokens > clientEventsPerSecond {
		l.tokens = clientEventsPerSecond
	}
	l.last = now
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}
