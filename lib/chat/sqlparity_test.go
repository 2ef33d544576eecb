package chat_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestSQLChannelNamesMatchGo checks that the database's chatwire_enc and
// chatwire_chat_channel (used by the triggers for legacy writers) name every
// channel exactly as Go does; a mismatch would deliver events to a channel
// nobody is subscribed to.
func TestSQLChannelNamesMatchGo(t *testing.T) {
	pool, _ := dbtest.NewPool(t)
	ctx := context.Background()
	ids := []string{"", "alice", "auth0|64f1", "a-b", "a=b", "José", "🙂", "user@example.com", "a b", "Zed", "_", "-", "=", "550e8400-e29b-41d4-a716-446655440000"}
	for _, c := range loadVectors(t).Enc {
		ids = append(ids, c.ID)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("aZ09_-=|.@ éü🙂\t/\\'\"%")
	for range 500 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		ids = append(ids, b.String())
	}
	for i, id := range ids {
		var enc string
		if err := pool.QueryRow(ctx, `SELECT chatwire_enc($1)`, id).Scan(&enc); err != nil {
			t.Fatalf("chatwire_enc(%q): %v", id, err)
		}
		if want := chat.Enc(id); enc != want {
			t.Errorf("chatwire_enc(%q) = %q, Go Enc = %q", id, enc, want)
		}
		other := ids[(i*7+3)%len(ids)]
		var channel string
		if err := pool.QueryRow(ctx, `SELECT chatwire_chat_channel($1, $2)`, id, other).Scan(&channel); err != nil {
			t.Fatalf("chatwire_chat_channel: %v", err)
		}
		if want := chat.ChatChannel(id, other); channel != want {
			t.Errorf("chatwire_chat_channel(%q, %q) = %q, Go = %q", id, other, channel, want)
		}
	}
}
