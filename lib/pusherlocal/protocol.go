package pusherlocal

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Pusher protocol error codes (https://pusher.com/docs/channels/library_auth_reference/pusher-websockets-protocol).
// 4000-4099 make pusher-js give up, 4100-4199 reconnect with backoff,
// 4200-4299 reconnect at once, 4300-4399 are other errors.
const (
	codeApplicationNotFound     = 4001
	codeOverConnectionQuota     = 4004
	codeInvalidVersionFormat    = 4006
	codeUnsupportedProtocol     = 4007
	codeNoProtocolVersion       = 4008
	codeOverCapacity            = 4100
	codeReconnectImmediately    = 4200
	codePongNotReceived         = 4201
	codeClientEventRateLimited  = 4301
	codeMessageRejected         = 4300 // "any other type of error": the frame is dropped, the connection stays
	closeCodeGoingAway          = 1001
	maxFrameBytes               = 10 * 1024 // Pusher's message size limit
	hardReadLimitBytes          = 64 * 1024 // beyond this the WebSocket library closes with 1009
	supportedProtocolVersionMin = 5
	supportedProtocolVersionMax = 7
)

// Event names of the protocol.
const (
	eventConnectionEstablished = "pusher:connection_established"
	eventError                 = "pusher:error"
	eventPing                  = "pusher:ping"
	eventPong                  = "pusher:pong"
	eventSubscribe             = "pusher:subscribe"
	eventUnsubscribe           = "pusher:unsubscribe"
	eventSubscriptionError     = "pusher:subscription_error"
	eventSubscriptionSucceeded = "pusher_internal:subscription_succeeded"
	eventMemberAdded           = "pusher_internal:member_added"
	eventMemberRemoved         = "pusher_internal:member_removed"
	clientEventPrefix          = "client-"
)

// inboundFrame is one message a client sends.
type inboundFrame struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// subscribeData is the payload of pusher:subscribe and pusher:unsubscribe.
type subscribeData struct {
	Channel     string `json:"channel"`
	Auth        string `json:"auth,omitempty"`
	ChannelData string `json:"channel_data,omitempty"`
}

var errEmptyEvent = errors.New("frame has no event name")

// parseFrame decodes a client frame. It never panics on any input; the fuzz
// target holds it to that.
func parseFrame(raw []byte) (inboundFrame, error) {
	var f inboundFrame
	if err := json.Unmarshal(raw, &f); err != nil {
		return inboundFrame{}, fmt.Errorf("decode frame: %w", err)
	}
	if f.Event == "" {
		return inboundFrame{}, errEmptyEvent
	}
	return f, nil
}

// parseSubscribeData decodes the data of a (un)subscribe frame. pusher-js
// sends it as an object; some older clients send it as a JSON-encoded string,
// so both are accepted.
func parseSubscribeData(raw json.RawMessage) (subscribeData, error) {
	var d subscribeData
	if len(raw) > 0 && raw[0] == '"' {
		var inner string
		if err := json.Unmarshal(raw, &inner); err != nil {
			return subscribeData{}, fmt.Errorf("decode subscription data: %w", err)
		}
		raw = json.RawMessage(inner)
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return subscribeData{}, fmt.Errorf("decode subscription data: %w", err)
	}
	if d.Channel == "" {
		return subscribeData{}, errors.New("subscription data has no channel")
	}
	return d, nil
}

// outboundFrame is one message the server sends. Data is raw JSON: a
// JSON-encoded string for channel events (as Pusher sends them) or an object
// for pusher:error and pusher:subscription_error.
type outboundFrame struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel,omitempty"`
	Data    json.RawMessage `json:"data"`
	UserID  string          `json:"user_id,omitempty"`
}

func encodeFrame(f outboundFrame) []byte {
	if f.Data == nil {
		f.Data = json.RawMessage(`{}`)
	}
	b, err := json.Marshal(f)
	if err != nil {
		// Only invalid raw JSON in Data can fail, and Data is always produced
		// by this package (or validated client data); fail loudly in tests.
		panic(fmt.Sprintf("pusherlocal: encode frame %q: %v", f.Event, err))
	}
	return b
}

// stringData encodes v as JSON and then as a JSON string, the way Pusher
// wraps the data of connection_established, subscription_succeeded and
// member events.
func stringData(v any) json.RawMessage {
	inner, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("pusherlocal: encode data: %v", err))
	}
	return quoteJSON(string(inner))
}

func quoteJSON(s string) json.RawMessage {
	b, _ := json.Marshal(s) // marshalling a string cannot fail
	return b
}

// errorFrame builds a pusher:error; a zero code is sent as null, as Pusher
// does for errors that have no code.
func errorFrame(code int, message string) []byte {
	data := struct {
		Code    *int   `json:"code"`
		Message string `json:"message"`
	}{Message: message}
	if code != 0 {
		data.Code = &code
	}
	b, _ := json.Marshal(data)
	return encodeFrame(outboundFrame{Event: eventError, Data: b})
}

// subscriptionErrorFrame tells pusher-js that one channel could not be
// subscribed; pusher-js emits it on that channel as pusher:subscription_error.
func subscriptionErrorFrame(channel, errType, message string, status int) []byte {
	b, _ := json.Marshal(struct {
		Type   string `json:"type"`
		Error  string `json:"error"`
		Status int    `json:"status"`
	}{errType, message, status})
	return encodeFrame(outboundFrame{Event: eventSubscriptionError, Channel: channel, Data: b})
}
