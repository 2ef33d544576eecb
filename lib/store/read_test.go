package store_test

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/store"
)

func TestMarkRead(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		m1 := send(t, db, "alice", "bob", "1")
		m2 := send(t, db, "alice", "bob", "2")
		toCarol := send(t, db, "alice", "carol", "not bob's")
		unread := func() int {
			return queryInt(t, pool, `SELECT count(*) FROM messages WHERE read_at IS NULL`)
		}

		// The sender may not mark; one foreign id spoils the lot.
		_, err := db.MarkRead(ctx, "alice", []string{m1.ID})
		wantCode(t, err, chat.EFORBIDDEN, "message_ids")
		_, err = db.MarkRead(ctx, "bob", []string{m1.ID, toCarol.ID, m2.ID})
		wantCode(t, err, chat.EFORBIDDEN, "message_ids")
		_, err = db.MarkRead(ctx, "bob", []string{m1.ID, "6f1c1f8e-1111-4111-8111-111111111111"})
		wantCode(t, err, chat.EFORBIDDEN, "message_ids")
		_, err = db.MarkRead(ctx, "bob", []string{m1.ID, "x'); DROP TABLE messages; --"})
		wantCode(t, err, chat.EINVALID, "message_ids")
		_, err = db.MarkRead(ctx, "bob", nil)
		wantCode(t, err, chat.EINVALID, "message_ids")
		if got := unread(); got != 3 {
			t.Fatalf("%d unread after refused calls, want 3", got)
		}

		// A repeated id, in upper case, counts once.
		res, err := db.MarkRead(ctx, "bob", []string{m2.ID, m1.ID, strings.ToUpper(m1.ID)})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := res.IDs, []string{m1.ID, m2.ID}; !slices.Equal(got, want) {
			t.Errorf("read = %v, want %v", got, want)
		}
		reads := eventsNamed(res.Events, "message-read")
		if res.ReadAt.IsZero() || len(reads) != 1 {
			t.Fatalf("read_at %v, events %v; want a time and one message-read", res.ReadAt, eventNames(res.Events))
		}
		wantConversationRead(t, res.Events, "bob", "chat:alice", 0)
		e := reads[0]
		if e.Name != "message-read" || e.Channel != m1.Channel || dataString(t, e, "reader_id") != "bob" ||
			dataString(t, e, "read_at") != chat.FormatTime(res.ReadAt) {
			t.Errorf("event %s on %s: %s", e.Name, e.Channel, e.Data)
		}
		if got := unread(); got != 1 {
			t.Errorf("%d unread, want 1", got)
		}

		// Again: nothing newly read, no event.
		res, err = db.MarkRead(ctx, "bob", []string{m1.ID})
		if err != nil || len(res.IDs) != 0 || len(res.Events) != 0 {
			t.Errorf("second read: %+v, %v; want nothing new", res, err)
		}
		if got := queryInt(t, pool, `SELECT count(*) FROM events WHERE event = 'message-read'`); got != 1 {
			t.Errorf("%d message-read events stored, want 1", got)
		}
	})
}

func TestMarkReadConcurrentlyWritesOneEvent(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	var ids []string
	for range 30 {
		ids = append(ids, send(t, db, "alice", "bob", "m").ID)
	}
	const readers = 10
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		marked []string
		events int
	)
	for i := range readers {
		wg.Go(func() {
			// Different orders and MarkReadFrom at once must not deadlock.
			var res chat.ReadResult
			var err error
			switch i % 3 {
			case 0:
				res, err = db.MarkRead(ctx, "bob", ids)
			case 1:
				res, err = db.MarkRead(ctx, "bob", reversed(ids))
			case 2:
				res, err = db.MarkReadFrom(ctx, "bob", "alice")
			}
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			marked = append(marked, res.IDs...)
			events += len(eventsNamed(res.Events, "message-read"))
		})
	}
	wg.Wait()
	slices.Sort(marked)
	slices.Sort(ids)
	if !slices.Equal(marked, ids) {
		t.Errorf("marked %d ids in total, want each of %d once", len(marked), len(ids))
	}
	// Each id is marked by exactly one call, and only calls that marked
	// something wrote an event.
	if got := queryInt(t, pool, `SELECT count(*) FROM events WHERE event = 'message-read'`); got != events || events < 1 {
		t.Errorf("%d events returned, %d stored; want the same, at least one", events, got)
	}
}

func TestMarkReadFrom(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		createRoom(t, pool, "r1", "alice", "bob")
		// Bob writes first: writing marks what he received from alice read
		// (and alice's writing, bob's own message).
		send(t, db, "bob", "alice", "bob's own")
		a1 := send(t, db, "alice", "bob", "1")
		send(t, db, "carol", "bob", "from carol")
		a2 := send(t, db, "alice", "bob", "2")
		if _, err := db.InsertMessage(ctx, user("alice"), chat.NewMessage{RoomID: "r1", Body: "room"}); err != nil {
			t.Fatal(err)
		}

		res, err := db.MarkReadFrom(ctx, "bob", "alice")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := res.IDs, []string{a1.ID, a2.ID}; !slices.Equal(got, want) {
			t.Errorf("read = %v, want %v", got, want)
		}
		if reads := eventsNamed(res.Events, "message-read"); len(reads) != 1 || reads[0].Channel != a1.Channel {
			t.Errorf("events = %v, want one message-read on the chat", eventNames(res.Events))
		}
		wantConversationRead(t, res.Events, "bob", "chat:alice", 0)
		if got := queryInt(t, pool, `SELECT count(*) FROM messages WHERE read_at IS NULL`); got != 2 {
			t.Errorf("%d unread, want 2 (carol's, the room's)", got)
		}
		res, err = db.MarkReadFrom(ctx, "bob", "alice")
		if err != nil || len(res.IDs) != 0 || len(res.Events) != 0 || res.ReadAt.IsZero() {
			t.Errorf("nothing left: %+v, %v", res, err)
		}
	})
}

func eventsNamed(events []chat.Event, name string) []chat.Event {
	var named []chat.Event
	for _, e := range events {
		if e.Name == name {
			named = append(named, e)
		}
	}
	return named
}

func reversed(s []string) []string {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}
