package relay_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/config"
	"github.com/chatwire/chatwire/lib/realtime"
	"github.com/chatwire/chatwire/lib/relay"
	"github.com/chatwire/chatwire/lib/store"
)

// childEnv makes the test binary run a relay instead of the tests: the child
// process that TestKilledRelayLosesNothing kills.
const childEnv = "CHATWIRE_RELAY_TEST_CHILD"

// runChildRelay runs a relay on CHATWIRE_RELAY_TEST_DB, publishing to
// CHATWIRE_RELAY_TEST_PUSHER, until it is killed.
func runChildRelay() {
	ctx := context.Background()
	pool, err := store.Open(ctx, os.Getenv("CHATWIRE_RELAY_TEST_DB"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	p := realtime.New(config.Pusher{AppID: pusherAppID, Key: pusherKey, Secret: pusherSecret,
		Host: os.Getenv("CHATWIRE_RELAY_TEST_PUSHER")}, nil)
	r := relay.New(store.New(pool), p, (&harness{logs: &syncBuffer{}}).logger(), relay.Options{Grace: time.Millisecond, PublishTimeout: time.Minute})
	_ = r.Run(ctx)
	os.Exit(0)
}

// A relay killed with SIGKILL in the middle of a batch, its claims held:
// Postgres rolls its transaction back, and another relay publishes the
// batch, each event once.
func TestKilledRelayLosesNothing(t *testing.T) {
	h := newHarness(t)
	bob := h.subscriber("private-chat-alice-bob")
	h.faults.set(stall)
	// Written before the child starts, so that its first claim takes all six
	// events: started first, it could claim (and stall on) a batch between
	// two of these inserts and leave the later rows free.
	var want []string
	for i := range 3 {
		want = append(want, h.legacyMessage("alice", "bob", fmt.Sprint("batch ", i)))
	}
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"=1",
		"CHATWIRE_RELAY_TEST_DB="+h.dbURL, "CHATWIRE_RELAY_TEST_PUSHER="+h.faults.addr)
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	waitFor(t, 60*time.Second, "the child relay to be mid-batch", func() bool { return h.faults.stalled.Load() > 0 })
	var claimable int
	if err := h.pool.QueryRow(context.Background(), `SELECT count(*) FROM (
  SELECT 1 FROM events_pending FOR UPDATE SKIP LOCKED) locked`).Scan(&claimable); err != nil {
		t.Fatal(err)
	}
	if claimable != 0 {
		t.Fatalf("%d pending rows free while the child publishes: its claim should hold them all", claimable)
	}

	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	// The killed relay's request never reaches Pusher.
	waitFor(t, 30*time.Second, "the killed relay's request to end", func() bool { return h.faults.stalled.Load() == 0 })
	h.faults.set(passThrough)
	if got := bob.messages(); len(got) != 0 {
		t.Fatalf("received %v from the killed relay", got)
	}

	r, _ := h.startRelay(relay.Options{Grace: time.Millisecond})
	bob.waitForMessages(30*time.Second, map[string][]string{"private-chat-alice-bob": want})
	waitFor(t, 30*time.Second, "nothing pending", func() bool { return h.pending() == 0 })
	if got := r.Published(); got != 6 {
		t.Errorf("the second relay published %d events, want 6", got)
	}
}
