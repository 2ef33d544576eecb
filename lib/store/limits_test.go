package store_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/store"
)

// A room holds at most maxMembers, even when many join at once.
func TestJoinRoomStopsAtTheMemberCapUnderConcurrentJoins(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		room := mustCreateRoom(t, db, "owner", chat.RoomPublic) // the owner is member 1
		const maxMembers = 5
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := range 20 {
			wg.Go(func() {
				_, err := db.JoinRoom(ctx, user(fmt.Sprint("u", i)), room.ID, fmt.Sprint("u", i), maxMembers)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		joined, full := 0, 0
		for err := range errs {
			var e *chat.Error
			switch {
			case err == nil:
				joined++
			case errors.As(err, &e) && e.Code == chat.ECONFLICT && e.Fields["room_id"] != "":
				full++
			default:
				t.Errorf("join: %v", err)
			}
		}
		if joined != maxMembers-1 || full != 20-(maxMembers-1) {
			t.Errorf("%d joined and %d refused as full, want %d and %d", joined, full, maxMembers-1, 20-(maxMembers-1))
		}
		if got := queryInt(t, pool, `SELECT count(*) FROM room_members WHERE room_id = $1`, room.ID); got != maxMembers {
			t.Errorf("%d members, want %d", got, maxMembers)
		}
		// A member joining again is still answered, full or not.
		if m, err := db.JoinRoom(ctx, user("owner"), room.ID, "owner", maxMembers); err != nil || m.Joined {
			t.Errorf("a member joining a full room again: %+v, %v", m, err)
		}
	})
}

// The listing pages through every room with a cursor, the caller's first,
// and a prefix finds public rooms by name whatever buries them.
func TestListRoomsPagesWithACursorAndFiltersByPrefix(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		var all []string
		for i := range 7 {
			all = append(all, mustCreateRoom(t, db, fmt.Sprint("spammer", i%2), chat.RoomPublic).ID)
		}
		mine := mustCreateRoom(t, db, "alice", chat.RoomPrivate)
		exec(t, pool, `INSERT INTO rooms (id, name, created_by, created_at) VALUES ('real', 'Book_club 100%', 'bob', now() - interval '1 day')`)
		// Two rooms with one created_at: the id breaks the tie across a page edge.
		exec(t, pool, `UPDATE rooms SET created_at = (SELECT created_at FROM rooms WHERE id = $1) WHERE id = $2`, all[3], all[4])

		var got []string
		var after *chat.RoomCursor
		for page := 0; ; page++ {
			rooms, err := db.ListRooms(ctx, chat.RoomQuery{UserID: "alice", Limit: 3, After: after})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rooms {
				got = append(got, r.ID)
			}
			if len(rooms) < 3 {
				break
			}
			last := rooms[len(rooms)-1]
			after = &chat.RoomCursor{Member: last.Member, CreatedAt: last.CreatedAt, ID: last.ID}
			if page > 10 {
				t.Fatal("listing does not end")
			}
		}
		if len(got) != 9 || got[0] != mine.ID || got[8] != "real" {
			t.Fatalf("paged listing = %v, want alice's room, the 7 public ones, then the old real one", got)
		}
		seen := map[string]bool{}
		for _, id := range got {
			if seen[id] {
				t.Errorf("room %s listed twice", id)
			}
			seen[id] = true
		}
		for _, prefix := range []string{"book_", "BOOK_CLUB 100%", "b"} {
			rooms, err := db.ListRooms(ctx, chat.RoomQuery{UserID: "carol", Prefix: prefix, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]string, 0, len(rooms))
			for _, r := range rooms {
				ids = append(ids, r.ID)
			}
			if !slices.Equal(ids, []string{"real"}) {
				t.Errorf("prefix %q: %v, want only the real room", prefix, ids)
			}
		}
		// Wildcards in a prefix are literal.
		for _, prefix := range []string{"%", "_", "book%"} {
			if rooms, err := db.ListRooms(ctx, chat.RoomQuery{UserID: "carol", Prefix: prefix, Limit: 50}); err != nil || len(rooms) != 0 {
				t.Errorf("prefix %q: %d rooms (%v), want none", prefix, len(rooms), err)
			}
		}
	})
}

// Action buckets are per action and per user, and answer the wait.
func TestTakeActionTokenKeepsABucketPerActionAndUser(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, _ *pgxpool.Pool) {
		ctx := testContext(t)
		limit := chat.RateLimit{Count: 2, Per: time.Hour}
		take := func(action, userID string) time.Duration {
			t.Helper()
			w, err := db.TakeActionToken(ctx, action, userID, limit)
			if err != nil {
				t.Fatal(err)
			}
			return w
		}
		if take(chat.ActionRoomCreate, "alice") != 0 || take(chat.ActionRoomCreate, "alice") != 0 {
			t.Fatal("the first two takes of 2 per hour were refused")
		}
		if w := take(chat.ActionRoomCreate, "alice"); w <= 0 || w > time.Hour {
			t.Errorf("third take: wait %v, want in (0, 1h]", w)
		}
		if take(chat.ActionRoomAdd, "alice") != 0 || take(chat.ActionRoomCreate, "bob") != 0 {
			t.Error("another action or user shares alice's bucket")
		}
	})
}
