package store_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/store"
)

const unknownMessage = "6f1c1f8e-1111-4111-8111-111111111111"

func TestEditAndDeleteBySenderOnly(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		m := send(t, db, "alice", "bob", "first")
		if m.Version != 1 || m.EditedAt != nil || m.DeletedAt != nil {
			t.Fatalf("new message: version %d, edited %v, deleted %v", m.Version, m.EditedAt, m.DeletedAt)
		}

		_, err := db.EditMessage(ctx, "bob", m.ID, "not mine")
		wantCode(t, err, chat.EFORBIDDEN, "id")
		_, err = db.EditMessage(ctx, "alice", unknownMessage, "x")
		wantCode(t, err, chat.ENOTFOUND, "id")
		_, err = db.EditMessage(ctx, "alice", m.ID, "")
		wantCode(t, err, chat.EINVALID, "body")

		res, err := db.EditMessage(ctx, "alice", m.ID, "second")
		if err != nil {
			t.Fatal(err)
		}
		if !res.Changed || res.Message.Body != "second" || res.Message.Version != 2 || res.Message.EditedAt == nil {
			t.Fatalf("edit: %+v", res)
		}
		if got := eventNames(res.Events); fmt.Sprint(got) != "[message-updated]" {
			t.Fatalf("edit events = %v", got)
		}
		var updated struct {
			ID      string `json:"id"`
			Body    string `json:"body"`
			Version int    `json:"version"`
		}
		decodeEvent(t, res.Events[0], &updated)
		if res.Events[0].Channel != m.Channel || updated.ID != m.ID || updated.Body != "second" || updated.Version != 2 {
			t.Errorf("message-updated on %s: %s", res.Events[0].Channel, res.Events[0].Data)
		}
		// The same body again changes nothing.
		same, err := db.EditMessage(ctx, "alice", m.ID, "second")
		if err != nil || same.Changed || len(same.Events) != 0 || same.Message.Version != 2 {
			t.Fatalf("same body: %+v, %v", same, err)
		}

		_, err = db.DeleteMessage(ctx, "bob", m.ID)
		wantCode(t, err, chat.EFORBIDDEN, "id")
		_, err = db.DeleteMessage(ctx, "bob", unknownMessage)
		wantCode(t, err, chat.ENOTFOUND, "id")
		del, err := db.DeleteMessage(ctx, "alice", m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !del.Changed || del.Message.Body != "" || del.Message.DeletedAt == nil || del.Message.Version != 3 {
			t.Fatalf("delete: %+v", del.Message)
		}
		if got := eventNames(del.Events); fmt.Sprint(got) != "[message-deleted]" {
			t.Fatalf("delete events = %v", got)
		}
		var deleted struct {
			ID        string `json:"id"`
			Channel   string `json:"channel"`
			DeletedAt string `json:"deleted_at"`
			Version   int    `json:"version"`
		}
		decodeEvent(t, del.Events[0], &deleted)
		if deleted.ID != m.ID || deleted.Channel != m.Channel || deleted.DeletedAt != chat.FormatTime(*del.Message.DeletedAt) || deleted.Version != 3 {
			t.Errorf("message-deleted: %s", del.Events[0].Data)
		}

		// Deleting again: the tombstone as it is, nothing written.
		again, err := db.DeleteMessage(ctx, "alice", m.ID)
		if err != nil || again.Changed || len(again.Events) != 0 || again.Message.Version != 3 || again.Message.DeletedAt == nil {
			t.Fatalf("delete again: %+v, %v", again, err)
		}
		// No edit revives it, neither through the API nor straight in SQL.
		_, err = db.EditMessage(ctx, "alice", m.ID, "back from the dead")
		wantCode(t, err, chat.ECONFLICT, "id")
		exec(t, pool, `UPDATE messages SET body = 'legacy revival', deleted_at = NULL WHERE id = $1::uuid`, m.ID)
		if got := queryInt(t, pool, `SELECT count(*) FROM messages WHERE id = $1::uuid AND body = '' AND deleted_at IS NOT NULL AND version = 3`, m.ID); got != 1 {
			t.Errorf("a legacy update revived the tombstone")
		}
		history, err := db.History(ctx, chat.HistoryQuery{UserID: "bob", With: "alice", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(history) != 1 || history[0].DeletedAt == nil || history[0].Version != 3 || history[0].Body != "" {
			t.Errorf("history shows %+v, want the tombstone at version 3", history)
		}
	})
}

func TestEditsConcurrentlyEachGetTheirOwnVersion(t *testing.T) {
	db, _ := newStore(t)
	ctx := testContext(t)
	m := send(t, db, "alice", "bob", "v1")
	const editors = 12
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		versions = map[int]string{}
	)
	for i := range editors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := db.EditMessage(ctx, "alice", m.ID, fmt.Sprintf("edit %d", i))
			if err != nil {
				t.Error(err)
				return
			}
			var data struct {
				Body    string `json:"body"`
				Version int    `json:"version"`
			}
			decodeEvent(t, res.Events[0], &data)
			mu.Lock()
			defer mu.Unlock()
			if prev, dup := versions[data.Version]; dup {
				t.Errorf("version %d given to %q and %q", data.Version, prev, data.Body)
			}
			versions[data.Version] = data.Body
		}()
	}
	wg.Wait()
	for v := 2; v <= editors+1; v++ {
		if _, ok := versions[v]; !ok {
			t.Fatalf("no edit got version %d: %v", v, versions)
		}
	}
	history, err := db.History(ctx, chat.HistoryQuery{UserID: "alice", With: "bob", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	// The stored message is the edit with the highest version.
	if got := history[0]; got.Version != editors+1 || got.Body != versions[editors+1] {
		t.Errorf("stored version %d %q, want %d %q", got.Version, got.Body, editors+1, versions[editors+1])
	}
}

func TestReactionsOnePerEmojiAndUser(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		m := send(t, db, "alice", "bob", "react to me")
		on := chat.ReactionChange{MessageID: m.ID, Emoji: "👍", On: true}

		res, err := db.React(ctx, "bob", on)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Changed || res.Message.Version != 2 || fmt.Sprint(res.Message.Reactions) != "[{👍 1 [bob]}]" {
			t.Fatalf("react: %+v", res.Message)
		}
		if got := eventNames(res.Events); fmt.Sprint(got) != "[reaction-changed]" {
			t.Fatalf("react events = %v", got)
		}
		var data struct {
			MessageID string `json:"message_id"`
			Channel   string `json:"channel"`
			Emoji     string `json:"emoji"`
			UserID    string `json:"user_id"`
			On        bool   `json:"on"`
			Reactions []chat.ReactionCount
		}
		decodeEvent(t, res.Events[0], &data)
		if data.MessageID != m.ID || data.Channel != m.Channel || data.Emoji != "👍" || data.UserID != "bob" || !data.On {
			t.Errorf("reaction-changed: %s", res.Events[0].Data)
		}

		// A repeat is a no-op: no version, no event.
		again, err := db.React(ctx, "bob", on)
		if err != nil || again.Changed || len(again.Events) != 0 || again.Message.Version != 2 {
			t.Fatalf("repeat: %+v, %v", again, err)
		}
		if _, err := db.React(ctx, "alice", on); err != nil {
			t.Fatal(err)
		}
		off, err := db.React(ctx, "bob", chat.ReactionChange{MessageID: m.ID, Emoji: "👍"})
		if err != nil || !off.Changed || fmt.Sprint(off.Message.Reactions) != "[{👍 1 [alice]}]" || off.Message.Version != 4 {
			t.Fatalf("off: %+v, %v", off.Message, err)
		}
		offAgain, err := db.React(ctx, "bob", chat.ReactionChange{MessageID: m.ID, Emoji: "👍"})
		if err != nil || offAgain.Changed || len(offAgain.Events) != 0 {
			t.Fatalf("off again: %+v, %v", offAgain, err)
		}

		_, err = db.React(ctx, "mallory", on)
		wantCode(t, err, chat.EFORBIDDEN, "id")
		_, err = db.React(ctx, "bob", chat.ReactionChange{MessageID: unknownMessage, Emoji: "👍", On: true})
		wantCode(t, err, chat.ENOTFOUND, "id")
		if _, err := db.DeleteMessage(ctx, "alice", m.ID); err != nil {
			t.Fatal(err)
		}
		_, err = db.React(ctx, "bob", chat.ReactionChange{MessageID: m.ID, Emoji: "🎉", On: true})
		wantCode(t, err, chat.ECONFLICT, "id")
		// History carries the summary.
		history, err := db.History(ctx, chat.HistoryQuery{UserID: "bob", With: "alice", Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(history[0].Reactions); got != "[{👍 1 [alice]}]" {
			t.Errorf("history reactions = %s", got)
		}
	})
}

// Many members react at once, with the same emoji and others, on and off:
// every change lands in the summary (none computed from a stale snapshot),
// and each user's reaction counts once.
func TestReactionsRacing(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	var members []string
	for i := range 20 {
		members = append(members, fmt.Sprintf("m%02d", i))
	}
	createRoom(t, pool, "busy", members...)
	saved, err := db.InsertMessage(ctx, user("m00"), chat.NewMessage{RoomID: "busy", Body: "vote"})
	if err != nil {
		t.Fatal(err)
	}
	id := saved.Message.ID
	var wg sync.WaitGroup
	for _, u := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, change := range []chat.ReactionChange{
				{MessageID: id, Emoji: "👍", On: true},
				{MessageID: id, Emoji: "👍", On: true}, // a repeat
				{MessageID: id, Emoji: "🎉", On: true},
				{MessageID: id, Emoji: "🎉", On: false},
			} {
				if _, err := db.React(ctx, u, change); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	history, err := db.History(ctx, chat.HistoryQuery{UserID: "m00", RoomID: "busy", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := history[0]
	if len(got.Reactions) != 1 || got.Reactions[0].Emoji != "👍" || got.Reactions[0].Count != len(members) ||
		len(got.Reactions[0].Users) != chat.MaxReactionUsers {
		t.Fatalf("reactions = %+v, want 👍 × %d naming %d users", got.Reactions, len(members), chat.MaxReactionUsers)
	}
	// Three changes per member, each one version and one event.
	if want := 1 + 3*len(members); got.Version != want {
		t.Errorf("version = %d, want %d", got.Version, want)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM events WHERE event = 'reaction-changed'`); n != 3*len(members) {
		t.Errorf("%d reaction-changed events, want %d", n, 3*len(members))
	}
	// The events' versions are all different: each tells its own change.
	versions := queryInt(t, pool, `SELECT count(DISTINCT (data ->> 'version')) FROM events WHERE event = 'reaction-changed'`)
	if versions != 3*len(members) {
		t.Errorf("%d distinct versions among reaction-changed events, want %d", versions, 3*len(members))
	}
}

// Deleting a message that carries an upload discards the upload: the cron's
// sweep claims it at once, and the tombstone shows no attachment.
func TestDeleteDiscardsTheMessagesUpload(t *testing.T) {
	db, pool := newStore(t)
	ctx := testContext(t)
	file := newUpload(t, db, "alice")
	saved, err := db.InsertMessage(ctx, user("alice"), chat.NewMessage{ReceiverID: "bob", Attachment: file.Attachment()})
	if err != nil {
		t.Fatal(err)
	}
	del, err := db.DeleteMessage(ctx, "alice", saved.Message.ID)
	if err != nil || del.Message.Attachment != nil {
		t.Fatalf("delete: %+v, %v", del.Message, err)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM attachments WHERE id = $1::uuid AND discarded_at IS NOT NULL`, file.ID); n != 1 {
		t.Fatal("the deleted message's upload is not discarded")
	}
	// Claimed by the sweep now, though it is not a day old.
	claimed, err := db.ClaimExpiredAttachments(ctx, time.Now().Add(-time.Hour), 10)
	if err != nil || len(claimed) != 1 || claimed[0].ID != file.ID {
		t.Fatalf("claimed %+v, %v; want the discarded upload", claimed, err)
	}
}
