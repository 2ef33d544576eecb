package store_test

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/lib/chat"
)

// The schema's channel functions (what the triggers write into events) must
// name channels exactly as lib/chat does (what clients subscribe to).
func TestSchemaChannelNamesMatchGo(t *testing.T) {
	_, pool := newStore(t)
	ctx := testContext(t)

	var vectors struct {
		Enc  []struct{ ID string }
		Chat []struct{ A, B string }
	}
	raw, err := os.ReadFile("../chat/testdata/channels.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &vectors); err != nil {
		t.Fatal(err)
	}
	ids := []string{"", "alice", "=", "==", "_", "a b", "\x01\x7f", "ü€😀", "auth0|x", "550e8400-e29b-41d4-a716-446655440000"}
	for _, v := range vectors.Enc {
		ids = append(ids, v.ID)
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("aZ09_-=|.@ é€😀\x01\x7f/")
	for range 300 {
		var b strings.Builder
		for range r.IntN(40) {
			b.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		ids = append(ids, b.String())
	}

	for _, id := range ids {
		var enc, room, userCh string
		if err := pool.QueryRow(ctx, `SELECT chatwire_enc($1), chatwire_room_channel($1), chatwire_user_channel($1)`, id).Scan(&enc, &room, &userCh); err != nil {
			t.Fatalf("%q: %v", id, err)
		}
		if enc != chat.Enc(id) || room != chat.RoomChannel(id) || userCh != chat.UserChannel(id) {
			t.Errorf("%q: SQL %q %q %q, Go %q %q %q", id, enc, room, userCh, chat.Enc(id), chat.RoomChannel(id), chat.UserChannel(id))
		}
	}
	pairs := [][2]string{}
	for _, v := range vectors.Chat {
		pairs = append(pairs, [2]string{v.A, v.B})
	}
	for i := 0; i+1 < len(ids); i += 2 {
		pairs = append(pairs, [2]string{ids[i], ids[i+1]}, [2]string{ids[i+1], ids[i]})
	}
	for _, p := range pairs {
		var ch string
		if err := pool.QueryRow(ctx, `SELECT chatwire_chat_channel($1, $2)`, p[0], p[1]).Scan(&ch); err != nil {
			t.Fatal(err)
		}
		if want := chat.ChatChannel(p[0], p[1]); ch != want {
			t.Errorf("chat %q %q: SQL %q, Go %q", p[0], p[1], ch, want)
		}
	}
}
