package store_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/store"
)

func TestCreateRoomMakesTheCreatorAMember(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		created, err := db.CreateRoom(ctx, user("alice"), chat.NewRoom{Name: "Général ☕", Visibility: chat.RoomPrivate})
		if err != nil {
			t.Fatal(err)
		}
		r := created.Room
		if len(r.ID) != 32 || r.Name != "Général ☕" || r.Visibility != chat.RoomPrivate || r.CreatedBy != "alice" || r.CreatedAt.IsZero() || !r.Member {
			t.Errorf("room = %+v", r)
		}
		if len(created.Events) != 1 {
			t.Fatalf("%d events, want one user-joined", len(created.Events))
		}
		e := created.Events[0]
		if e.Name != "user-joined" || e.Channel != chat.RoomChannel(r.ID) {
			t.Errorf("event %s on %s", e.Name, e.Channel)
		}
		if got, want := dataString(t, e, "name"), "Name of alice"; got != want {
			t.Errorf("user-joined name = %q, want %q (recorded in the same transaction)", got, want)
		}
		if got, want := dataString(t, e, "joined_at"), chat.FormatTime(r.CreatedAt); got != want {
			t.Errorf("joined_at = %s, want the room's created_at %s", got, want)
		}
		if member, err := db.IsRoomMember(ctx, r.ID, "alice"); err != nil || !member {
			t.Errorf("creator is a member: %v, %v", member, err)
		}
	})
}

func TestJoinRoomFollowsTheRules(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		pub := mustCreateRoom(t, db, "owner", chat.RoomPublic)
		priv := mustCreateRoom(t, db, "owner", chat.RoomPrivate)
		before := queryInt(t, pool, `SELECT count(*) FROM events`)

		// Refusals write nothing, not even the joiner's name.
		_, err := db.JoinRoom(ctx, user("bob"), priv.ID, "bob", 0)
		wantCode(t, err, chat.EFORBIDDEN, "room_id")
		_, err = db.JoinRoom(ctx, user("bob"), pub.ID, "carol", 0)
		wantCode(t, err, chat.EFORBIDDEN, "user_id")
		_, err = db.JoinRoom(ctx, user("bob"), priv.ID, "carol", 0)
		wantCode(t, err, chat.EFORBIDDEN, "user_id")
		_, err = db.JoinRoom(ctx, user("bob"), "nowhere", "bob", 0)
		wantCode(t, err, chat.ENOTFOUND, "room_id")
		if got := queryInt(t, pool, `SELECT count(*) FROM events`); got != before {
			t.Errorf("refused joins wrote %d events", got-before)
		}
		if got := queryInt(t, pool, `SELECT count(*) FROM users WHERE id IN ('bob', 'carol')`); got != 0 {
			t.Errorf("refused joins recorded %d users", got)
		}

		// Anyone joins a public room; the name comes from the joiner.
		m, err := db.JoinRoom(ctx, user("bob"), pub.ID, "bob", 0)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Joined || m.Member.RoomID != pub.ID || m.Member.UserID != "bob" || m.Member.JoinedAt.IsZero() || len(m.Events) != 1 {
			t.Fatalf("join = %+v", m)
		}
		e := m.Events[0]
		if e.Name != "user-joined" || dataString(t, e, "user_id") != "bob" || dataString(t, e, "name") != "Name of bob" ||
			dataString(t, e, "joined_at") != chat.FormatTime(m.Member.JoinedAt) {
			t.Errorf("event %s: %s", e.Name, e.Data)
		}

		// Again: the same member, nothing written.
		events := queryInt(t, pool, `SELECT count(*) FROM events`)
		again, err := db.JoinRoom(ctx, chat.User{ID: "bob", Name: "Renamed"}, pub.ID, "bob", 0)
		if err != nil {
			t.Fatal(err)
		}
		if again.Joined || len(again.Events) != 0 || !again.Member.JoinedAt.Equal(m.Member.JoinedAt) {
			t.Errorf("second join = %+v, want the first membership and no events", again)
		}
		if got := queryInt(t, pool, `SELECT count(*) FROM events`); got != events {
			t.Errorf("second join wrote %d events", got-events)
		}
		if got := queryInt(t, pool, `SELECT count(*) FROM users WHERE id = 'bob' AND name = 'Renamed'`); got != 0 {
			t.Errorf("a repeated join changed the user row")
		}

		// The creator adds someone to the private room, and may re-add them.
		added, err := db.JoinRoom(ctx, user("owner"), priv.ID, "carol", 0)
		if err != nil || !added.Joined || len(added.Events) != 1 {
			t.Fatalf("creator adds carol: %+v, %v", added, err)
		}
		if got := dataString(t, added.Events[0], "name"); got != "carol" {
			t.Errorf("name of a user never seen = %q, want the id", got)
		}
		if again, err := db.JoinRoom(ctx, user("owner"), priv.ID, "carol", 0); err != nil || again.Joined {
			t.Errorf("re-add: %+v, %v", again, err)
		}
		// A member of a private room who is not its creator still cannot add.
		_, err = db.JoinRoom(ctx, user("carol"), priv.ID, "dave", 0)
		wantCode(t, err, chat.EFORBIDDEN, "user_id")
		// carol is in: re-joining herself answers her membership, though
		// she could not join the private room from outside.
		if again, err := db.JoinRoom(ctx, user("carol"), priv.ID, "carol", 0); err != nil || again.Joined || len(again.Events) != 0 {
			t.Errorf("carol re-joins: %+v, %v; want her membership, nothing new", again, err)
		}
	})
}

func TestConcurrentJoinsWriteOneEvent(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	room := mustCreateRoom(t, db, "owner", chat.RoomPublic)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		joined int
		events int
	)
	for range 10 {
		wg.Go(func() {
			m, err := db.JoinRoom(ctx, user("bob"), room.ID, "bob", 0)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if m.Joined {
				joined++
			}
			events += len(m.Events)
		})
	}
	wg.Wait()
	if joined != 1 || events != 1 {
		t.Errorf("%d joins reported joined with %d events, want 1 and 1", joined, events)
	}
	if got := queryInt(t, pool, `SELECT count(*) FROM events WHERE event = 'user-joined' AND data->>'user_id' = 'bob'`); got != 1 {
		t.Errorf("%d user-joined stored, want 1", got)
	}
}

func TestLeaveRoom(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		room := mustCreateRoom(t, db, "owner", chat.RoomPublic)
		if _, err := db.JoinRoom(ctx, user("bob"), room.ID, "bob", 0); err != nil {
			t.Fatal(err)
		}
		d, err := db.LeaveRoom(ctx, room.ID, "bob")
		if err != nil {
			t.Fatal(err)
		}
		if !d.Left || d.LeftAt.IsZero() || len(d.Events) != 1 {
			t.Fatalf("leave = %+v", d)
		}
		e := d.Events[0]
		if e.Name != "user-left" || e.Channel != chat.RoomChannel(room.ID) || dataString(t, e, "user_id") != "bob" ||
			dataString(t, e, "left_at") != chat.FormatTime(d.LeftAt) {
			t.Errorf("event %s on %s: %s", e.Name, e.Channel, e.Data)
		}
		if member, _ := db.IsRoomMember(ctx, room.ID, "bob"); member {
			t.Error("bob still a member")
		}

		again, err := db.LeaveRoom(ctx, room.ID, "bob")
		if err != nil || again.Left || len(again.Events) != 0 {
			t.Errorf("second leave = %+v, %v; want nothing", again, err)
		}
		_, err = db.LeaveRoom(ctx, "nowhere", "bob")
		wantCode(t, err, chat.ENOTFOUND, "room_id")
		if got := queryInt(t, pool, `SELECT count(*) FROM events WHERE event = 'user-left'`); got != 1 {
			t.Errorf("%d user-left stored, want 1", got)
		}
	})
}

func TestListRoomsPutsTheCallersRoomsFirst(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		// Created in this order, one transaction each, so created_at ascends.
		mine := mustCreateRoom(t, db, "alice", chat.RoomPrivate)
		joinedPub := mustCreateRoom(t, db, "owner", chat.RoomPublic)
		if _, err := db.JoinRoom(ctx, user("alice"), joinedPub.ID, "alice", 0); err != nil {
			t.Fatal(err)
		}
		otherPriv := mustCreateRoom(t, db, "owner", chat.RoomPrivate)
		pub1 := mustCreateRoom(t, db, "owner", chat.RoomPublic)
		pub2 := mustCreateRoom(t, db, "owner", chat.RoomPublic)
		// Same created_at for two rooms: the id breaks the tie.
		exec(t, pool, `UPDATE rooms SET created_at = (SELECT created_at FROM rooms WHERE id = $1) WHERE id = $2`, pub2.ID, pub1.ID)

		rooms, err := db.ListRooms(ctx, chat.RoomQuery{UserID: "alice", Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		tied := []string{pub1.ID, pub2.ID}
		slices.Sort(tied)
		slices.Reverse(tied)
		want := append([]string{joinedPub.ID, mine.ID}, tied...)
		var got []string
		for _, r := range rooms {
			got = append(got, r.ID)
			if r.ID == otherPriv.ID {
				t.Errorf("someone else's private room listed")
			}
			if r.Member != (r.ID == mine.ID || r.ID == joinedPub.ID) {
				t.Errorf("room %s member = %v", r.ID, r.Member)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("rooms = %v, want %v", got, want)
		}

		few, err := db.ListRooms(ctx, chat.RoomQuery{UserID: "alice", Limit: 3})
		if err != nil || len(few) != 3 || few[2].ID != tied[0] {
			t.Errorf("limit 3: %d rooms, %v", len(few), err)
		}
		none, err := db.ListRooms(ctx, chat.RoomQuery{UserID: "stranger", Limit: 200})
		if err != nil || len(none) != 3 {
			t.Errorf("a stranger sees %d rooms (%v), want the 3 public ones", len(none), err)
		}
	})
}

func mustCreateRoom(t testing.TB, db *store.DB, creator, visibility string) chat.Room {
	t.Helper()
	created, err := db.CreateRoom(testContext(t), user(creator), chat.NewRoom{Name: "room of " + creator, Visibility: visibility})
	if err != nil {
		t.Fatal(err)
	}
	return created.Room
}
