package store_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/store"
)

func TestApplyPresenceTellsUsersWrittenToAndRoomCoMembers(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		send(t, db, "alice", "bob", "hi")       // bob may see alice
		send(t, db, "erin", "alice", "unasked") // erin wrote to alice, not the reverse
		createRoom(t, pool, "r1", "alice", "carol")
		createRoom(t, pool, "r2", "dave") // alice is not in r2

		at := time.Date(2026, 1, 2, 3, 4, 5, 123_000_000, time.UTC)
		applied, err := db.ApplyPresence(ctx, []chat.PresenceChange{{UserID: "alice", Online: true, At: at}})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(applied.Changed), 1; got != want {
			t.Fatalf("changed = %d, want %d", got, want)
		}
		channels := map[string]bool{}
		for _, e := range applied.Events {
			if e.Name != "user-status-change" {
				t.Errorf("event %s, want user-status-change", e.Name)
			}
			channels[e.Channel] = true
			if got, want := string(e.Data), `{"online": true, "user_id": "alice", "last_active_at": "2026-01-02T03:04:05.123Z"}`; got != want {
				t.Errorf("data = %s, want %s", got, want)
			}
		}
		if got, want := fmt.Sprint(channels), "map[private-user-bob:true private-user-carol:true]"; got != want {
			t.Errorf("channels = %s, want %s", got, want)
		}
		if got, want := queryInt(t, pool, `SELECT count(*) FROM events WHERE event = 'user-status-change' AND recipients = ARRAY[substr(channel, 14)]`), 2; got != want {
			t.Errorf("events whose recipient is the channel's user = %d, want %d", got, want)
		}
		users, err := db.Presence(ctx, "bob", []string{"alice"})
		if err != nil {
			t.Fatal(err)
		}
		if !users[0].Online || users[0].LastActiveAt == nil || !users[0].LastActiveAt.Equal(at) {
			t.Errorf("presence = %+v, want online since %v", users[0], at)
		}
	})
}

func TestApplyPresenceIgnoresLateAndRepeatedChanges(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	send(t, db, "alice", "bob", "hi")
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	apply := func(online bool, ms int) int {
		t.Helper()
		applied, err := db.ApplyPresence(ctx, []chat.PresenceChange{{UserID: "alice", Online: online, At: at(ms)}})
		if err != nil {
			t.Fatal(err)
		}
		return len(applied.Events)
	}
	steps := []struct {
		name   string
		online bool
		ms     int
		events int
	}{
		{"online", true, 100, 1},
		{"the same webhook again", true, 100, 0},
		{"an older offline arriving late", false, 50, 0},
		{"a newer online changes nothing", true, 300, 0},
		{"an offline older than that newer online", false, 200, 0},
		{"offline", false, 400, 1},
		{"online again", true, 500, 1},
	}
	for _, s := range steps {
		if got := apply(s.online, s.ms); got != s.events {
			t.Errorf("%s: %d events, want %d", s.name, got, s.events)
		}
	}
	users, err := db.Presence(ctx, "bob", []string{"alice"})
	if err != nil {
		t.Fatal(err)
	}
	if !users[0].Online || !users[0].LastActiveAt.Equal(at(500)) {
		t.Errorf("presence = online %v since %v, want online since %v", users[0].Online, users[0].LastActiveAt, at(500))
	}
	if got, want := queryInt(t, pool, `SELECT count(*) FROM events WHERE event = 'user-status-change'`), 3; got != want {
		t.Errorf("user-status-change events = %d, want %d", got, want)
	}
}

// Webhooks of many users arrive concurrently and out of order: whatever the
// order, each user ends in the state of their newest change, and the events
// told the contact about every change that was applied, alternating.
func TestApplyPresenceUnderConcurrentOutOfOrderWebhooks(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	users := []string{"u1", "u2", "u3", "u4"}
	for _, u := range users {
		send(t, db, u, "watcher", "hi")
	}
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	type job struct {
		changes []chat.PresenceChange
	}
	var jobs []job
	for i := range 40 {
		var changes []chat.PresenceChange
		for _, u := range users { // sorted, as the service passes them
			changes = append(changes, chat.PresenceChange{UserID: u, Online: i%2 == 0, At: t0.Add(time.Duration(i) * time.Millisecond)})
		}
		jobs = append(jobs, job{changes})
	}
	rand.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
	var wg sync.WaitGroup
	errs := make(chan error, len(jobs))
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := db.ApplyPresence(ctx, j.changes); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := db.Presence(ctx, "watcher", users)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range got {
		// Change 39, the newest, is offline.
		if p.Online {
			t.Errorf("%s online, want offline (its newest change)", p.UserID)
		}
	}
	rows, err := pool.Query(ctx, `SELECT data::text FROM events WHERE event = 'user-status-change' AND data->>'user_id' = 'u1' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var last *bool
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var d struct {
			Online bool `json:"online"`
		}
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			t.Fatal(err)
		}
		if last != nil && *last == d.Online {
			t.Fatalf("two user-status-change events in a row say online=%v", d.Online)
		}
		last = &d.Online
	}
}

func TestPresenceKeepsTheOrderAskedAndKnowsNoStrangers(t *testing.T) {
	db, _ := newStore(t)
	ctx := testContext(t)
	at := time.Now().UTC().Truncate(time.Millisecond)
	if _, err := db.ApplyPresence(ctx, []chat.PresenceChange{{UserID: "b", Online: true, At: at}}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Presence(ctx, "b", []string{"zed", "b", "a"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range got {
		ids = append(ids, p.UserID)
	}
	if got, want := fmt.Sprint(ids), "[zed b a]"; got != want {
		t.Errorf("order = %s, want %s", got, want)
	}
	if got[0].Online || got[0].LastActiveAt != nil {
		t.Errorf("unknown user = %+v, want offline and never active", got[0])
	}
	if !got[1].Online {
		t.Errorf("b offline, want online")
	}
}
