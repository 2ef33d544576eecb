package store

import (
	"context"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/dbtest"
)

// A poll reads at most the scan budget of log rows; a client far behind
// advances in steps through rows that are not for it, and still gets each of
// its events exactly once, in order.
func TestPollAdvancesInBudgetedSteps(t *testing.T) {
	pool, _ := dbtest.NewPool(t)
	ctx := context.Background()
	db := New(pool)
	db.pollScanBudget = 5
	start, err := db.CurrentCursor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for range 3 {
		if _, err := pool.Exec(ctx, `INSERT INTO messages (sender_id, receiver_id, body)
			SELECT 'x', 'y', 'noise' FROM generate_series(1, 11)`); err != nil {
			t.Fatal(err)
		}
		saved, err := db.InsertMessage(ctx, chat.User{ID: "alice"}, chat.NewMessage{ReceiverID: "bob", Body: "for bob"})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range saved.Events {
			want = append(want, e.Seq)
		}
	}

	for _, limit := range []int{1, 2, 100} {
		cursor, got, empty := start, []int64(nil), 0
		deadline := time.Now().Add(2 * time.Minute)
		for len(got) < len(want) {
			if time.Now().After(deadline) {
				t.Fatalf("limit %d: got %v after the deadline, want %v", limit, got, want)
			}
			page, err := db.Poll(ctx, "bob", cursor, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Events) > limit {
				t.Fatalf("page of %d, limit %d", len(page.Events), limit)
			}
			if page.More && !page.Next.After(cursor) {
				t.Fatalf("More without progress: %v → %v", cursor, page.Next)
			}
			if page.More && len(page.Events) == 0 {
				empty++
			}
			for _, e := range page.Events {
				got = append(got, e.Seq)
			}
			cursor = page.Next
			if !page.More {
				time.Sleep(10 * time.Millisecond) // waiting for xmin (other tests)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("limit %d: got %v, want %v", limit, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("limit %d: got %v, want %v", limit, got, want)
			}
		}
		if empty == 0 {
			t.Errorf("limit %d: no empty page with More: the budget was not what stopped the scans", limit)
		}
	}
}
