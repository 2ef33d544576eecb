package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/store"
)

// online puts users online at a fixed time, as a presence webhook would.
func online(t *testing.T, db *store.DB, at time.Time, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if _, err := db.ApplyPresence(testContext(t), []chat.PresenceChange{{UserID: id, Online: true, At: at}}); err != nil {
			t.Fatal(err)
		}
	}
}

// seenAs returns target's status as viewer may see it.
func seenAs(t *testing.T, db *store.DB, viewer, target string) chat.UserPresence {
	t.Helper()
	got, err := db.Presence(testContext(t), viewer, []string{target})
	if err != nil {
		t.Fatal(err)
	}
	return got[0]
}

func wantSees(t *testing.T, db *store.DB, viewer, target string, sees bool) {
	t.Helper()
	p := seenAs(t, db, viewer, target)
	switch {
	case sees && (!p.Online || p.LastActiveAt == nil):
		t.Errorf("%s sees %s as %+v, want online", viewer, target, p)
	case !sees && (p.Online || p.LastActiveAt != nil):
		t.Errorf("%s sees %s as %+v, want offline and never active (hidden looks unknown)", viewer, target, p)
	}
}

// statusEvents returns the user-status-change events on viewer's private
// channel about target, in order, as {online, last_active_at != null}.
func statusEvents(t *testing.T, pool *pgxpool.Pool, viewer, target string) []string {
	t.Helper()
	rows, err := pool.Query(testContext(t), `SELECT data::text FROM events
		WHERE event = 'user-status-change' AND channel = $1 AND data->>'user_id' = $2 AND recipients = ARRAY[$3]
		ORDER BY id`, chat.UserChannel(viewer), target, viewer)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var d struct {
			Online bool    `json:"online"`
			At     *string `json:"last_active_at"`
		}
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			t.Fatal(err)
		}
		s := "offline"
		if d.Online {
			s = "online"
		}
		if d.At == nil {
			s += ",never"
		}
		out = append(out, s)
	}
	return out
}

func TestPresenceIsVisibleOnlyToUsersWrittenToAndRoomCoMembers(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
		online(t, db, at, "alice", "bob", "carol", "dave")

		// Strangers see nothing.
		wantSees(t, db, "bob", "alice", false)
		wantSees(t, db, "alice", "alice", true) // oneself, always

		// alice writes to bob: bob may see alice, at once; alice still not bob.
		send(t, db, "alice", "bob", "hi bob")
		wantSees(t, db, "bob", "alice", true)
		wantSees(t, db, "alice", "bob", false)
		wantSees(t, db, "carol", "alice", false)
		if got := statusEvents(t, pool, "bob", "alice"); len(got) != 1 || got[0] != "online" {
			t.Fatalf("bob told about alice: %v, want one online event at her first message", got)
		}
		send(t, db, "alice", "bob", "again")
		if got := statusEvents(t, pool, "bob", "alice"); len(got) != 1 {
			t.Errorf("a second message told bob again: %v", got)
		}
		if got := statusEvents(t, pool, "alice", "bob"); len(got) != 0 {
			t.Errorf("alice was told bob's status before he wrote to her: %v", got)
		}
		// bob replies: now alice sees bob, told at once.
		send(t, db, "bob", "alice", "hi alice")
		wantSees(t, db, "alice", "bob", true)
		if got := statusEvents(t, pool, "alice", "bob"); len(got) != 1 || got[0] != "online" {
			t.Errorf("alice told about bob: %v, want one online event at his first reply", got)
		}

		// carol and dave share a room: both told at once, both see each other.
		createRoom(t, pool, "r1", "carol")
		exec(t, pool, `INSERT INTO room_members (room_id, user_id) VALUES ('r1', 'dave')`)
		wantSees(t, db, "carol", "dave", true)
		wantSees(t, db, "dave", "carol", true)
		if got := statusEvents(t, pool, "dave", "carol"); len(got) != 1 {
			t.Errorf("dave told about carol: %v, want one event on joining", got)
		}
		if got := statusEvents(t, pool, "carol", "dave"); len(got) != 1 {
			t.Errorf("carol told about dave: %v, want one event when he joined", got)
		}
		wantSees(t, db, "carol", "alice", false)
	})
}

func TestHiddenPresenceLooksOfflineToEveryone(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	online(t, db, at, "alice", "bob")
	send(t, db, "alice", "bob", "hi")
	createRoom(t, pool, "r1", "alice", "carol")
	wantSees(t, db, "bob", "alice", true)

	hide := func(hidden bool) chat.SavedPreferences {
		t.Helper()
		saved, err := db.SetPreferences(ctx, user("alice"), chat.Preferences{Enabled: true, PresenceHidden: &hidden})
		if err != nil {
			t.Fatal(err)
		}
		if saved.PresenceHidden == nil || *saved.PresenceHidden != hidden {
			t.Fatalf("stored presence_hidden = %v, want %v", saved.PresenceHidden, hidden)
		}
		return saved
	}
	saved := hide(true)
	if len(saved.Events) != 2 {
		t.Errorf("hiding wrote %d events, want one each to bob and carol", len(saved.Events))
	}
	wantSees(t, db, "bob", "alice", false)
	wantSees(t, db, "carol", "alice", false)
	wantSees(t, db, "alice", "alice", true)
	if got := statusEvents(t, pool, "bob", "alice"); got[len(got)-1] != "offline,never" {
		t.Errorf("bob's last event about alice: %v, want offline,never", got)
	}
	// While hidden, her changes tell nobody, and a new contact learns nothing.
	applied, err := db.ApplyPresence(ctx, []chat.PresenceChange{{UserID: "alice", Online: false, At: at.Add(time.Second)}})
	if err != nil || len(applied.Changed) != 1 || len(applied.Events) != 0 {
		t.Errorf("hidden user's change: %+v, %v; want applied with no events", applied, err)
	}
	online(t, db, at.Add(2*time.Second), "alice")
	send(t, db, "alice", "dave", "hello dave")
	if got := statusEvents(t, pool, "dave", "alice"); len(got) != 0 {
		t.Errorf("dave told about hidden alice: %v", got)
	}
	// A PUT without presence_hidden keeps it.
	if saved, err := db.SetPreferences(ctx, user("alice"), chat.Preferences{Enabled: false}); err != nil || !*saved.PresenceHidden || len(saved.Events) != 0 {
		t.Errorf("preferences without presence_hidden: %+v, %v; want still hidden, no events", saved, err)
	}
	// Shown again: everyone who may see her is told her current status.
	hide(false)
	wantSees(t, db, "bob", "alice", true)
	wantSees(t, db, "dave", "alice", true)
	if got := statusEvents(t, pool, "dave", "alice"); len(got) != 1 || got[0] != "online" {
		t.Errorf("dave's events about alice after she showed her status: %v, want one online", got)
	}
	p, err := db.Preferences(ctx, "alice")
	if err != nil || p.PresenceHidden == nil || *p.PresenceHidden {
		t.Errorf("preferences = %+v, %v; want presence_hidden false", p, err)
	}
}

// A room's creator may add anyone, but being added is not consent: mallory
// adds bob to her private room and still cannot see bob's status, while bob
// sees mallory's. bob joining the room himself accepts: mallory sees him and
// is told his status at once.
func TestAddingSomeoneToARoomDoesNotRevealTheirStatus(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
		online(t, db, at, "mallory", "bob")
		created, err := db.CreateRoom(ctx, user("mallory"), chat.NewRoom{Name: "trap", Visibility: "private"})
		if err != nil {
			t.Fatal(err)
		}
		room := created.Room.ID
		added, err := db.JoinRoom(ctx, user("mallory"), room, "bob", 0)
		if err != nil || !added.Joined {
			t.Fatalf("mallory adds bob: %+v, %v", added, err)
		}
		// bob goes offline and comes back: mallory is told nothing.
		for i, on := range []bool{false, true} {
			applied, err := db.ApplyPresence(ctx, []chat.PresenceChange{{UserID: "bob", Online: on, At: at.Add(time.Duration(i+1) * time.Second)}})
			if err != nil || len(applied.Changed) != 1 {
				t.Fatalf("bob online=%v: %+v, %v", on, applied, err)
			}
			for _, e := range applied.Events {
				if e.Channel == chat.UserChannel("mallory") {
					t.Errorf("mallory told of bob's change online=%v: %s", on, e.Data)
				}
			}
		}
		wantSees(t, db, "mallory", "bob", false)
		if got := statusEvents(t, pool, "mallory", "bob"); len(got) != 0 {
			t.Errorf("mallory told about bob: %v, want nothing", got)
		}
		// bob sees mallory: she joined her room herself, and told him at the add.
		wantSees(t, db, "bob", "mallory", true)
		if got := statusEvents(t, pool, "bob", "mallory"); len(got) != 1 || got[0] != "online" {
			t.Errorf("bob told about mallory: %v, want one online event at the add", got)
		}

		// A repeated add changes and sends nothing, and reveals nothing.
		again, err := db.JoinRoom(ctx, user("mallory"), room, "bob", 0)
		if err != nil || again.Joined || len(again.Events) != 0 {
			t.Errorf("repeated add: %+v, %v; want not joined, no events", again, err)
		}
		wantSees(t, db, "mallory", "bob", false)

		// bob joins himself: he accepts, and mallory is told his status at once.
		accepted, err := db.JoinRoom(ctx, user("bob"), room, "bob", 0)
		if err != nil {
			t.Fatal(err)
		}
		if accepted.Joined || !accepted.Member.JoinedAt.Equal(added.Member.JoinedAt) {
			t.Errorf("bob's acceptance: %+v; want his existing membership, joined false", accepted)
		}
		if len(accepted.Events) != 1 || accepted.Events[0].Channel != chat.UserChannel("mallory") || accepted.Events[0].Name != "user-status-change" {
			t.Errorf("acceptance events: %+v, want one user-status-change to mallory", accepted.Events)
		}
		wantSees(t, db, "mallory", "bob", true)
		if got := statusEvents(t, pool, "mallory", "bob"); len(got) != 1 || got[0] != "online" {
			t.Errorf("mallory told about bob: %v, want one online event at his acceptance", got)
		}
		// Joining once more, now self-joined, changes and sends nothing.
		repeat, err := db.JoinRoom(ctx, user("bob"), room, "bob", 0)
		if err != nil || repeat.Joined || len(repeat.Events) != 0 {
			t.Errorf("repeated self-join: %+v, %v; want not joined, no events", repeat, err)
		}
	})
}
