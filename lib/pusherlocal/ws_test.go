package pusherlocal_test

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pusher/pusher-http-go/v5"

	"github.com/chatwire/chatwire/lib/pusherlocal"
)

func TestConnectionEstablishedCarriesSocketIDAndActivityTimeout(t *testing.T) {
	srv := startServer(t, func(c *pusherlocal.Config) { c.ActivityTimeout = 45 * time.Second })
	s := dialRaw(t, srv, "/app/"+testKey+"?protocol=7&client=js&version=8.6.0")

	f := s.expect(t, "pusher:connection_established")
	var got struct {
		SocketID        string `json:"socket_id"`
		ActivityTimeout int    `json:"activity_timeout"`
	}
	f.dataString(t, &got)
	if !regexp.MustCompile(`^\d+\.\d+$`).MatchString(got.SocketID) {
		t.Fatalf("socket_id = %q, want digits.digits", got.SocketID)
	}
	if got, want := got.ActivityTimeout, 45; got != want {
		t.Fatalf("activity_timeout = %d, want %d", got, want)
	}
}

func TestHandshakeRefusals(t *testing.T) {
	srv := startServer(t, nil)
	tests := []struct {
		name string
		path string
		code int
	}{
		{"unknown app key", "/app/nope?protocol=7", 4001},
		{"no protocol version", "/app/" + testKey, 4008},
		{"invalid protocol version", "/app/" + testKey + "?protocol=seven", 4006},
		{"unsupported protocol version", "/app/" + testKey + "?protocol=99", 4007},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := dialRaw(t, srv, tt.path)
			e := s.expectError(t)
			if e.Code == nil || *e.Code != tt.code {
				t.Fatalf("pusher:error = %+v, want code %d", e, tt.code)
			}
			if got, want := s.expectClosed(t), websocket.StatusCode(tt.code); got != want {
				t.Fatalf("close status = %d, want %d", got, want)
			}
		})
	}
}

func TestPingIsAnsweredWithPong(t *testing.T) {
	srv := startServer(t, nil)
	dial(t, srv).alive(t)
}

func TestIdleConnectionIsPingedAndClosedWithoutPong(t *testing.T) {
	srv := startServer(t, func(c *pusherlocal.Config) {
		c.ActivityTimeout = 150 * time.Millisecond
		c.PongTimeout = 150 * time.Millisecond
	})
	silent := dial(t, srv)
	answering := dial(t, srv)

	silent.expect(t, "pusher:ping")
	answering.expect(t, "pusher:ping")
	answering.send(t, map[string]any{"event": "pusher:pong", "data": map[string]any{}})

	if got, want := silent.expectClosed(t), websocket.StatusCode(4201); got != want {
		t.Fatalf("close status of the silent socket = %d, want %d", got, want)
	}
	answering.expect(t, "pusher:ping") // pinged again later, not closed
	answering.alive(t)
}

func TestPublicChannelSubscriptionReceivesTriggeredEvent(t *testing.T) {
	srv := startServer(t, nil)
	s := dial(t, srv)
	f := s.subscribe(t, "news", "", "")
	f.dataString(t, nil) // Pusher sends "{}" as a string

	if err := apiClient(srv).Trigger("news", "headline", map[string]string{"title": "hi"}); err != nil {
		t.Fatalf("Trigger: %v", err)
	}
	got := s.expect(t, "headline")
	var data map[string]string
	got.dataString(t, &data)
	if got, want := data["title"], "hi"; got != want {
		t.Fatalf("title = %q, want %q", got, want)
	}
}

func TestPrivateChannelNeedsAValidSignature(t *testing.T) {
	srv := startServer(t, nil)
	client := apiClient(srv)
	s := dial(t, srv)

	s.sendSubscribe(t, "private-room", "", "")
	assertSubscriptionError(t, s, "private-room", "AuthError")

	other := dial(t, srv)
	stolen := authorize(t, client, other.socketID, "private-room", nil)
	s.sendSubscribe(t, "private-room", stolen.Auth, "")
	assertSubscriptionError(t, s, "private-room", "AuthError")

	s.sendSubscribe(t, "private-room", testKey+":"+"00ff", "")
	assertSubscriptionError(t, s, "private-room", "AuthError")

	s.subscribeAuthorized(t, client, "private-room", nil)
}

func TestEncryptedChannelsAreRefused(t *testing.T) {
	srv := startServer(t, nil)
	s := dial(t, srv)
	a := authorize(t, apiClient(srv), s.socketID, "private-room", nil) // any auth: refused before checking
	s.sendSubscribe(t, "private-encrypted-room", a.Auth, "")
	assertSubscriptionError(t, s, "private-encrypted-room", "UnsupportedChannel")
}

func assertSubscriptionError(t *testing.T, s *socket, channel, wantType string) {
	t.Helper()
	f := s.expect(t, "pusher:subscription_error")
	var d struct {
		Type   string `json:"type"`
		Error  string `json:"error"`
		Status int    `json:"status"`
	}
	if err := json.Unmarshal(f.Data, &d); err != nil {
		t.Fatalf("subscription_error data %s: %v", f.Data, err)
	}
	if got, want := f.Channel, channel; got != want {
		t.Fatalf("subscription_error channel = %q, want %q", got, want)
	}
	if got, want := d.Type, wantType; got != want {
		t.Fatalf("subscription_error type = %q (%s), want %q", got, d.Error, want)
	}
}

func TestPresenceTracksMembersPerUser(t *testing.T) {
	srv := startServer(t, nil)
	client := apiClient(srv)
	const channel = "presence-room"
	alice := &pusher.MemberData{UserID: "alice", UserInfo: map[string]string{"name": "Alice"}}
	bob := &pusher.MemberData{UserID: "bob"}

	aliceTab1 := dial(t, srv)
	f := aliceTab1.subscribeAuthorized(t, client, channel, alice)
	assertPresence(t, f, []string{"alice"})

	bobTab := dial(t, srv)
	f = bobTab.subscribeAuthorized(t, client, channel, bob)
	assertPresence(t, f, []string{"alice", "bob"})
	added := aliceTab1.expect(t, "pusher_internal:member_added")
	var member struct {
		UserID   string            `json:"user_id"`
		UserInfo map[string]string `json:"user_info"`
	}
	added.dataString(t, &member)
	if got, want := member.UserID, "bob"; got != want {
		t.Fatalf("member_added user_id = %q, want %q", got, want)
	}

	// A second tab of alice is not a new member: bob hears nothing.
	aliceTab2 := dial(t, srv)
	f = aliceTab2.subscribeAuthorized(t, client, channel, alice)
	assertPresence(t, f, []string{"alice", "bob"})
	bobTab.expectNothing(t, 100*time.Millisecond)

	users, err := client.GetChannelUsers(channel)
	if err != nil {
		t.Fatalf("GetChannelUsers: %v", err)
	}
	if got, want := len(users.List), 2; got != want {
		t.Fatalf("users = %v, want %d", users.List, want)
	}

	// Alice leaves only when her last tab does.
	aliceTab1.send(t, map[string]any{"event": "pusher:unsubscribe", "data": map[string]string{"channel": channel}})
	bobTab.expectNothing(t, 100*time.Millisecond)
	aliceTab2.conn.Close(websocket.StatusNormalClosure, "")
	removed := bobTab.expect(t, "pusher_internal:member_removed")
	removed.dataString(t, &member)
	if got, want := member.UserID, "alice"; got != want {
		t.Fatalf("member_removed user_id = %q, want %q", got, want)
	}
}

func assertPresence(t *testing.T, f frame, wantIDs []string) {
	t.Helper()
	var d struct {
		Presence struct {
			IDs   []string                   `json:"ids"`
			Hash  map[string]json.RawMessage `json:"hash"`
			Count int                        `json:"count"`
		} `json:"presence"`
	}
	f.dataString(t, &d)
	if got, want := d.Presence.Count, len(wantIDs); got != want {
		t.Fatalf("presence count = %d, want %d", got, want)
	}
	for i, id := range wantIDs {
		if d.Presence.IDs[i] != id {
			t.Fatalf("presence ids = %v, want %v", d.Presence.IDs, wantIDs)
		}
		if _, ok := d.Presence.Hash[id]; !ok {
			t.Fatalf("presence hash %v lacks %q", d.Presence.Hash, id)
		}
	}
}

func TestClientEventsReachOtherSubscribersOnly(t *testing.T) {
	srv := startServer(t, nil)
	client := apiClient(srv)
	sender, receiver := dial(t, srv), dial(t, srv)
	sender.subscribeAuthorized(t, client, "private-chat", nil)
	receiver.subscribeAuthorized(t, client, "private-chat", nil)

	sender.send(t, map[string]any{"event": "client-typing", "channel": "private-chat", "data": map[string]bool{"typing": true}})

	f := receiver.expect(t, "client-typing")
	if got, want := string(f.Data), `{"typing":true}`; got != want {
		t.Fatalf("client event data = %s, want %s", got, want)
	}
	sender.expectNothing(t, 100*time.Millisecond)
}

func TestClientEventsCarryTheUserIDOnPresenceChannels(t *testing.T) {
	srv := startServer(t, nil)
	client := apiClient(srv)
	sender, receiver := dial(t, srv), dial(t, srv)
	sender.subscribeAuthorized(t, client, "presence-chat", &pusher.MemberData{UserID: "ana"})
	receiver.subscribeAuthorized(t, client, "presence-chat", &pusher.MemberData{UserID: "bo"})
	sender.expect(t, "pusher_internal:member_added")

	sender.send(t, map[string]any{"event": "client-typing", "channel": "presence-chat", "data": map[string]any{}})
	if got, want := receiver.expect(t, "client-typing").UserID, "ana"; got != want {
		t.Fatalf("user_id = %q, want %q", got, want)
	}
}

func TestClientEventsAreRefusedOutsideAuthenticatedSubscriptions(t *testing.T) {
	srv := startServer(t, nil)
	s := dial(t, srv)
	s.subscribe(t, "public", "", "")

	s.send(t, map[string]any{"event": "client-x", "channel": "public", "data": "{}"})
	if e := s.expectError(t); e.Code != nil {
		t.Fatalf("public channel client event: %+v, want an error without code", e)
	}
	s.send(t, map[string]any{"event": "client-x", "channel": "private-not-subscribed", "data": "{}"})
	if e := s.expectError(t); e.Code != nil {
		t.Fatalf("unsubscribed client event: %+v, want an error without code", e)
	}
	s.alive(t)
}

func TestClientEventFloodIsRateLimited(t *testing.T) {
	srv := startServer(t, nil)
	client := apiClient(srv)
	flooder, receiver := dial(t, srv), dial(t, srv)
	flooder.subscribeAuthorized(t, client, "private-flood", nil)
	receiver.subscribeAuthorized(t, client, "private-flood", nil)

	const sent = 50
	for i := 0; i < sent; i++ {
		flooder.send(t, map[string]any{"event": "client-spam", "channel": "private-flood", "data": i})
	}
	flooder.send(t, map[string]any{"event": "pusher:ping", "data": map[string]any{}})
	rejected := 0
	for f := flooder.next(t); f.Event != "pusher:pong"; f = flooder.next(t) {
		var e errorData
		if err := json.Unmarshal(f.Data, &e); err != nil || f.Event != "pusher:error" || e.Code == nil || *e.Code != 4301 {
			t.Fatalf("got %s %s, want pusher:error code 4301", f.Event, f.Data)
		}
		rejected++
	}
	receiver.send(t, map[string]any{"event": "pusher:ping", "data": map[string]any{}})
	delivered := 0
	for f := receiver.next(t); f.Event != "pusher:pong"; f = receiver.next(t) {
		delivered++
	}
	if got, want := delivered+rejected, sent; got != want {
		t.Fatalf("delivered %d + rejected %d, want %d in all", delivered, rejected, want)
	}
	// The bucket holds one second's worth, 10 events, and barely refills
	// while the loop runs.
	if delivered < 10 || delivered > 15 {
		t.Fatalf("delivered %d of %d flooded events, want about 10", delivered, sent)
	}
}

func TestDropConnectionsCutsEverySocket(t *testing.T) {
	srv := startServer(t, nil)
	a, b := dial(t, srv), dial(t, srv)
	srv.DropConnections()
	a.expectClosed(t)
	b.expectClosed(t)
	dial(t, srv).alive(t) // the server keeps accepting
}
