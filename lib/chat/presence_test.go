package chat_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/chat"
)

func TestPresenceWebhookEventsBecomeOneChangePerUser(t *testing.T) {
	store := &outboxFakeStore{}
	svc := chat.NewService(store, &outboxFakePublisher{}, outboxTestLog(), chat.Options{})
	at := time.UnixMilli(1_700_000_000_000)
	_, err := svc.ApplyPresenceWebhook(t.Context(), at, []chat.WebhookEvent{
		{Name: "channel_occupied", Channel: "presence-user-zoe"},
		{Name: "member_added", Channel: "presence-user-auth0=7C1"},
		{Name: "channel_occupied", Channel: "presence-user-bob"},
		{Name: "member_removed", Channel: "presence-user-bob"}, // bob's last event wins
		{Name: "channel_occupied", Channel: "private-user-carol"},
		{Name: "client_event", Channel: "presence-user-dave"},
		{Name: "channel_occupied", Channel: "presence-user-bad=zz"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range store.changes {
		if !c.At.Equal(at) {
			t.Errorf("%s at %v, want %v", c.UserID, c.At, at)
		}
		got = append(got, fmt.Sprintf("%s:%v", c.UserID, c.Online))
	}
	if got, want := fmt.Sprint(got), "[auth0|1:true bob:false zoe:true]"; got != want {
		t.Errorf("changes = %s, want %s (sorted by user id)", got, want)
	}
}

func TestPresenceWebhookWithoutPresenceEventsTouchesNothing(t *testing.T) {
	store := &outboxFakeStore{}
	svc := chat.NewService(store, &outboxFakePublisher{}, outboxTestLog(), chat.Options{})
	if _, err := svc.ApplyPresenceWebhook(t.Context(), time.Now(), []chat.WebhookEvent{{Name: "channel_vacated", Channel: "private-room-r1"}}); err != nil {
		t.Fatal(err)
	}
	if len(store.changes) != 0 {
		t.Errorf("changes = %v, want none", store.changes)
	}
}
