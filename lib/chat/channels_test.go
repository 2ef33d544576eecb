package chat_test

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"

	"github.com/chatwire/chatwire/lib/chat"
)

type vectors struct {
	Enc  []struct{ ID, Enc string }
	Chat []struct{ A, B, Channel string }
	Room []struct{ ID, Channel string }
	User []struct{ ID, Private, Presence string }
}

func loadVectors(tb testing.TB) vectors {
	tb.Helper()
	raw, err := os.ReadFile("testdata/channels.json")
	if err != nil {
		tb.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatalf("channels.json: %v", err)
	}
	return v
}

func TestChannelNamesMatchTheSharedVectors(t *testing.T) {
	v := loadVectors(t)
	for _, c := range v.Enc {
		if got := chat.Enc(c.ID); got != c.Enc {
			t.Errorf("Enc(%q) = %q, want %q", c.ID, got, c.Enc)
		}
		if got, ok := chat.Dec(c.Enc); !ok || got != c.ID {
			t.Errorf("Dec(%q) = %q, %v; want %q", c.Enc, got, ok, c.ID)
		}
	}
	for _, c := range v.Chat {
		if got := chat.ChatChannel(c.A, c.B); got != c.Channel {
			t.Errorf("ChatChannel(%q, %q) = %q, want %q", c.A, c.B, got, c.Channel)
		}
	}
	for _, c := range v.Room {
		if got := chat.RoomChannel(c.ID); got != c.Channel {
			t.Errorf("RoomChannel(%q) = %q, want %q", c.ID, got, c.Channel)
		}
	}
	for _, c := range v.User {
		if got := chat.UserChannel(c.ID); got != c.Private {
			t.Errorf("UserChannel(%q) = %q, want %q", c.ID, got, c.Private)
		}
		if got := chat.PresenceChannel(c.ID); got != c.Presence {
			t.Errorf("PresenceChannel(%q) = %q, want %q", c.ID, got, c.Presence)
		}
	}
}

func TestDecRejectsWhatEncNeverWrites(t *testing.T) {
	for _, s := range []string{"=", "=2", "=2d", "=41", "a=ZZ", "a-b", "=3"} {
		if id, ok := chat.Dec(s); ok {
			t.Errorf("Dec(%q) = %q, true; want false", s, id)
		}
	}
}

func TestParseChannelRefusesNonCanonicalNames(t *testing.T) {
	for _, name := range []string{
		"private-chat-bob-alice", // unordered
		"private-chat-alice",     // one id
		"private-chat--bob",
		"private-chat-a-b-c",
		"private-user-",
		"private-user-a=2d",
		"presence-chat-a-b",
		"private-encrypted-user-a",
		"public",
	} {
		if p, err := chat.ParseChannel(name); err == nil {
			t.Errorf("ParseChannel(%q) = %+v, want an error", name, p)
		}
	}
}

// pusherChannelName is Pusher's rule for channel names.
var pusherChannelName = regexp.MustCompile(`^[-a-zA-Z0-9_=@,.;]+$`)

// FuzzChatChannel proves the encoding injective and always a valid Pusher
// name: two different pairs of ids never share a channel, and the channel
// parses back to exactly its pair.
func FuzzChatChannel(f *testing.F) {
	for _, c := range loadVectors(f).Chat {
		f.Add(c.A, c.B, "x", "y")
	}
	f.Add("a-b", "c", "a", "b-c")
	f.Add("a=2Db", "c", "a-b", "c")
	f.Add("", "a", "a", "")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		ch1, ch2 := chat.ChatChannel(a, b), chat.ChatChannel(c, d)
		samePair := a == c && b == d || a == d && b == c
		if (ch1 == ch2) != samePair {
			t.Fatalf("ChatChannel(%q,%q) = %q, ChatChannel(%q,%q) = %q", a, b, ch1, c, d, ch2)
		}
		if a == "" || b == "" {
			return
		}
		if !pusherChannelName.MatchString(ch1) {
			t.Fatalf("ChatChannel(%q,%q) = %q is not a valid Pusher channel name", a, b, ch1)
		}
		if len(ch1) > chat.MaxChannelLength {
			return
		}
		p, err := chat.ParseChannel(ch1)
		if err != nil {
			t.Fatalf("ParseChannel(%q): %v", ch1, err)
		}
		if p.Kind != chat.ChannelChat || !(p.IDs[0] == a && p.IDs[1] == b || p.IDs[0] == b && p.IDs[1] == a) {
			t.Fatalf("ParseChannel(%q) = %+v, want the pair %q, %q", ch1, p, a, b)
		}
	})
}

// FuzzEnc checks that Enc round-trips through Dec and writes only characters
// Pusher allows, never '-'.
func FuzzEnc(f *testing.F) {
	for _, c := range loadVectors(f).Enc {
		f.Add(c.ID)
	}
	f.Fuzz(func(t *testing.T, id string) {
		e := chat.Enc(id)
		if got, ok := chat.Dec(e); !ok || got != id {
			t.Fatalf("Dec(Enc(%q)) = %q, %v", id, got, ok)
		}
		if id != "" && !regexp.MustCompile(`^[A-Za-z0-9_=]+$`).MatchString(e) {
			t.Fatalf("Enc(%q) = %q writes a character outside [A-Za-z0-9_=]", id, e)
		}
	})
}
