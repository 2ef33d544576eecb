package chat_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/chat"
)

// outboxFakeStore implements the parts of chat.Store these tests touch; calling
// anything else panics on the nil embedded interface.
type outboxFakeStore struct {
	chat.Store
	staleCalls  []int // limits asked for
	staleErr    error
	staleEvents int // events each claim finds, at most the limit
	changes     []chat.PresenceChange
	unpublished int
}

func (f *outboxFakeStore) SendMessage(context.Context, chat.SendWrite) (chat.SavedMessage, error) {
	return chat.SavedMessage{Created: true, Events: []chat.Event{{Seq: 1, Channel: "private-chat-a-b", Name: "new-message", Data: []byte(`{}`)}}}, nil
}

func (f *outboxFakeStore) MarkPublished(context.Context, []int64) error { return nil }

func (f *outboxFakeStore) ClaimStaleEvents(ctx context.Context, age time.Duration, limit int, deliver chat.DeliverFunc) (int, error) {
	f.staleCalls = append(f.staleCalls, limit)
	if f.staleErr != nil {
		return 0, f.staleErr
	}
	n := min(f.staleEvents, limit)
	events := make([]chat.Event, n)
	if n > 0 {
		if err := deliver(ctx, events); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func (f *outboxFakeStore) CountUnpublished(context.Context) (int, error) { return f.unpublished, nil }

func (f *outboxFakeStore) DeleteEventsBefore(context.Context, time.Time, int) (int, error) {
	return 0, nil
}

func (f *outboxFakeStore) ApplyPresence(_ context.Context, changes []chat.PresenceChange) (chat.PresenceApplied, error) {
	f.changes = append(f.changes, changes...)
	return chat.PresenceApplied{}, nil
}

type outboxFakePublisher struct{ err error }

func (p *outboxFakePublisher) Publish(context.Context, []chat.Event) error { return p.err }

func outboxTestLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestASuccessfulSendRedeliversAFewStaleEventsAndNeverFailsForThem(t *testing.T) {
	store := &outboxFakeStore{staleErr: errors.New("database hiccup")}
	svc := chat.NewService(store, &outboxFakePublisher{}, outboxTestLog(), chat.Options{})
	res, err := svc.Send(t.Context(), chat.User{ID: "a"}, chat.SendInput{To: "b", Body: "hi"})
	if err != nil || !res.Published {
		t.Fatalf("send = %+v, %v; want published despite the stale step failing", res, err)
	}
	if got, want := len(store.staleCalls), 1; got != want || store.staleCalls[0] != 20 {
		t.Errorf("stale claims = %v, want one of 20", store.staleCalls)
	}
}

func TestTheStaleStepRunsAtMostOncePerIntervalPerProcess(t *testing.T) {
	for _, tc := range []struct {
		every time.Duration
		want  int
	}{{0, 1}, {time.Hour, 1}, {-1, 3}} {
		store := &outboxFakeStore{}
		svc := chat.NewService(store, &outboxFakePublisher{}, outboxTestLog(), chat.Options{Outbox: chat.OutboxOptions{StaleEvery: tc.every}})
		for range 3 {
			if _, err := svc.Send(t.Context(), chat.User{ID: "a"}, chat.SendInput{To: "b", Body: "hi"}); err != nil {
				t.Fatal(err)
			}
		}
		if got := len(store.staleCalls); got != tc.want {
			t.Errorf("StaleEvery %v: %d stale probes for 3 sends, want %d", tc.every, got, tc.want)
		}
	}
}

func TestAFailedPublishSkipsTheStaleStep(t *testing.T) {
	store := &outboxFakeStore{}
	svc := chat.NewService(store, &outboxFakePublisher{err: errors.New("pusher down")}, outboxTestLog(), chat.Options{})
	res, err := svc.Send(t.Context(), chat.User{ID: "a"}, chat.SendInput{To: "b", Body: "hi"})
	if err != nil || res.Published {
		t.Fatalf("send = %+v, %v; want saved, not published", res, err)
	}
	if len(store.staleCalls) != 0 {
		t.Errorf("stale claims = %v, want none while Pusher fails", store.staleCalls)
	}
}

func TestCronRepublishesInBoundedBatches(t *testing.T) {
	store := &outboxFakeStore{staleEvents: 1000, unpublished: 750}
	svc := chat.NewService(store, &outboxFakePublisher{}, outboxTestLog(), chat.Options{Outbox: chat.OutboxOptions{CronLimit: 250}})
	res, err := svc.RedeliverOutbox(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Republished != 250 || res.Remaining != 750 {
		t.Errorf("result = %+v, want 250 republished and 750 remaining", res)
	}
	if got, want := fmt.Sprint(store.staleCalls), "[100 100 50]"; got != want {
		t.Errorf("claims = %s, want %s", got, want)
	}
}

func TestCronReportsPusherFailureAsUnavailable(t *testing.T) {
	store := &outboxFakeStore{staleEvents: 5, unpublished: 5}
	svc := chat.NewService(store, &outboxFakePublisher{err: errors.New("pusher down")}, outboxTestLog(), chat.Options{})
	_, err := svc.RedeliverOutbox(t.Context())
	if got, want := chat.ErrorCode(err), chat.EUNAVAILABLE; got != want {
		t.Errorf("error code = %s (%v), want %s", got, err, want)
	}
}
