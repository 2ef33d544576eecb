package pusherlocal

import (
	"regexp"
	"testing"
)

// FuzzParseFrame feeds arbitrary bytes through everything a frame goes
// through before it reaches a channel: it must never panic, and what it
// accepts must encode back to valid JSON.
func FuzzParseFrame(f *testing.F) {
	f.Add([]byte(`{"event":"pusher:subscribe","data":{"channel":"private-a","auth":"k:s"}}`))
	f.Add([]byte(`{"event":"pusher:subscribe","data":"{\"channel\":\"presence-a\",\"channel_data\":\"{\\\"user_id\\\":1}\"}"}`))
	f.Add([]byte(`{"event":"client-x","channel":"private-a","data":{"a":[1,2]}}`))
	f.Add([]byte(`{"event":"pusher:ping","data":{}}`))
	f.Add([]byte(`{"event":`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		frame, err := parseFrame(raw)
		if err != nil {
			return
		}
		if frame.Event == "" {
			t.Fatalf("accepted a frame without event: %q", raw)
		}
		if data, err := parseSubscribeData(frame.Data); err == nil {
			_ = validateChannelName(data.Channel)
			_, _ = parsePresenceMember(data.ChannelData)
		}
		if len(frame.Data) > 0 {
			// Client events are relayed with their data as it came.
			_ = encodeFrame(outboundFrame{Event: frame.Event, Channel: frame.Channel, Data: frame.Data})
		}
	})
}

var pusherChannelName = regexp.MustCompile(`\A[A-Za-z0-9_\-=@,.;]{1,164}\z`)

// FuzzChannelName holds validateChannelName to Pusher's rule, written as a
// regular expression.
func FuzzChannelName(f *testing.F) {
	for _, seed := range []string{"private-chat-a-b", "presence-user-1", "", "a b", "é", "#server-to-user-1", "x;y,z=@.-_"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := validateChannelName(name)
		if got, want := err == nil, pusherChannelName.MatchString(name); got != want {
			t.Fatalf("validateChannelName(%q) = %v, Pusher's rule says valid=%v", name, err, want)
		}
	})
}
