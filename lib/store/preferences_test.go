package store_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/store"
)

func TestPreferencesDefaultAndRoundTrip(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		p, err := db.Preferences(ctx, "nobody")
		if err != nil {
			t.Fatal(err)
		}
		if !p.Enabled || p.MutedChannels == nil || len(p.MutedChannels) != 0 {
			t.Errorf("defaults = %+v, want enabled and an empty list", p)
		}

		muted := []string{chat.ChatChannel("alice", "bob"), chat.RoomChannel("r1")}
		stored, err := db.SetPreferences(ctx, user("alice"), chat.Preferences{Enabled: false, MutedChannels: muted})
		if err != nil {
			t.Fatal(err)
		}
		if stored.Enabled || !slices.Equal(stored.MutedChannels, muted) {
			t.Errorf("stored = %+v", stored)
		}
		got, err := db.Preferences(ctx, "alice")
		if err != nil || got.Enabled || !slices.Equal(got.MutedChannels, muted) {
			t.Errorf("read back = %+v, %v", got, err)
		}
		if n := queryInt(t, pool, `SELECT count(*) FROM users WHERE id = 'alice' AND name = 'Name of alice'`); n != 1 {
			t.Error("display name not recorded")
		}

		// A nameless update keeps the name; nil means nothing muted.
		stored, err = db.SetPreferences(ctx, chat.User{ID: "alice"}, chat.Preferences{Enabled: true})
		if err != nil || !stored.Enabled || stored.MutedChannels == nil || len(stored.MutedChannels) != 0 {
			t.Errorf("reset = %+v, %v", stored, err)
		}
		if n := queryInt(t, pool, `SELECT count(*) FROM users WHERE id = 'alice' AND name = 'Name of alice'`); n != 1 {
			t.Error("a nameless update dropped the display name")
		}
	})
}

// TestPreferencesGateNotifications checks the trigger reads what
// SetPreferences stores: disabled or muted, a message writes new-message and
// no message-notification.
func TestPreferencesGateNotifications(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	notifications := func(m chat.Message) int {
		return queryInt(t, pool, `SELECT count(*) FROM events WHERE event = 'message-notification' AND data->>'message_id' = $1`, m.ID)
	}

	if _, err := db.SetPreferences(ctx, user("bob"), chat.Preferences{Enabled: false, MutedChannels: []string{}}); err != nil {
		t.Fatal(err)
	}
	if m := send(t, db, "alice", "bob", "while disabled"); notifications(m) != 0 {
		t.Error("notification written while disabled")
	}

	muted := []string{chat.ChatChannel("alice", "bob")}
	if _, err := db.SetPreferences(ctx, user("bob"), chat.Preferences{Enabled: true, MutedChannels: muted}); err != nil {
		t.Fatal(err)
	}
	if m := send(t, db, "alice", "bob", "while muted"); notifications(m) != 0 {
		t.Error("notification written for a muted chat")
	}
	if m := send(t, db, "carol", "bob", "another chat"); notifications(m) != 1 {
		t.Error("muting one chat silenced another")
	}

	if _, err := db.SetPreferences(ctx, user("bob"), chat.Preferences{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	m := send(t, db, "alice", "bob", strings.Repeat("😀", 150))
	if notifications(m) != 1 {
		t.Fatal("no notification after re-enabling")
	}
	var preview string
	if err := pool.QueryRow(ctx, `SELECT data->>'preview' FROM events WHERE event = 'message-notification' AND data->>'message_id' = $1`, m.ID).Scan(&preview); err != nil {
		t.Fatal(err)
	}
	if preview != strings.Repeat("😀", 100) || !utf8.ValidString(preview) {
		t.Errorf("preview has %d runes (%d bytes), want 100 whole emoji", utf8.RuneCountInString(preview), len(preview))
	}
	if got := queryInt(t, pool, `SELECT count(*) FROM events WHERE event = 'new-message'`); got != 4 {
		t.Errorf("%d new-message events, want one per message", got)
	}
}
