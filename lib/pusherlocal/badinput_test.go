package pusherlocal_test

import (
	"strings"
	"testing"
)

// Every bad frame gets an error and leaves the connection (and the server)
// working.
func TestBadFramesAreAnsweredWithErrors(t *testing.T) {
	srv := startServer(t, nil)
	tests := []struct {
		name  string
		frame string
	}{
		{"malformed JSON", `{"event":`},
		{"not an object", `[1,2,3]`},
		{"no event", `{"data":{}}`},
		{"unknown event", `{"event":"pusher:teleport","data":{}}`},
		{"subscribe without data", `{"event":"pusher:subscribe"}`},
		{"subscribe with a number as data", `{"event":"pusher:subscribe","data":42}`},
		{"unsubscribe without channel", `{"event":"pusher:unsubscribe","data":{}}`},
		{"frame over 10 KB", `{"event":"client-big","channel":"private-x","data":"` + strings.Repeat("x", 10*1024) + `"}`},
	}
	s := dial(t, srv)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.sendRaw(t, []byte(tt.frame))
			if e := s.expectError(t); e.Message == "" {
				t.Fatalf("pusher:error without a message")
			}
			s.alive(t)
		})
	}
}

func TestInvalidChannelNamesAreRefused(t *testing.T) {
	srv := startServer(t, nil)
	tests := []struct {
		name    string
		channel string
	}{
		{"165 characters", strings.Repeat("c", 165)},
		{"space", "my channel"},
		{"slash", "a/b"},
		{"non-ASCII", "café"},
		{"hash", "#server-to-user-1"},
	}
	s := dial(t, srv)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.sendSubscribe(t, tt.channel, "", "")
			f := s.expect(t, "pusher:subscription_error")
			if !strings.Contains(string(f.Data), "InvalidChannel") {
				t.Fatalf("subscription_error %s, want type InvalidChannel", f.Data)
			}
			s.alive(t)
		})
	}
	// 164 characters of the allowed alphabet is fine.
	s.subscribe(t, strings.Repeat("a", 164-10)+"_-=@,.;AZ9", "", "")
}

func TestPresenceSubscriptionNeedsChannelData(t *testing.T) {
	srv := startServer(t, nil)
	s := dial(t, srv)
	// Correctly signed, but without the channel_data a presence channel needs.
	a := authorize(t, apiClient(srv), s.socketID, "private-x", nil)
	auth := testKey + ":" + strings.SplitN(a.Auth, ":", 2)[1]
	s.sendSubscribe(t, "presence-x", auth, "")
	s.expect(t, "pusher:subscription_error")
	s.alive(t)
}

func TestOversizedFrameBeyondTheHardLimitClosesTheConnection(t *testing.T) {
	srv := startServer(t, nil)
	s := dial(t, srv)
	s.sendRaw(t, []byte(`{"event":"x","data":"`+strings.Repeat("x", 100*1024)+`"}`))
	if got, want := s.expectClosed(t), 1009; int(got) != want {
		t.Fatalf("close status = %d, want %d (message too big)", got, want)
	}
	dial(t, srv).alive(t)
}
