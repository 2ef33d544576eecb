package realtime

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/lib/chat"
)

func TestPlanSendsAMessageAndItsNotificationInOneBatch(t *testing.T) {
	calls, _ := plan([]chat.Event{
		{Channel: "private-chat-a-b", Name: "new-message", Data: []byte(`{"id":"1"}`)},
		{Channel: "private-user-b", Name: "message-notification", Data: []byte(`{"message_id":"1"}`)},
	})
	if got, want := len(calls), 1; got != want {
		t.Fatalf("calls = %d, want %d", got, want)
	}
	if got, want := len(calls[0].batch), 2; got != want {
		t.Fatalf("batch size = %d, want %d", got, want)
	}
}

func TestPlanFansOneStatusChangeOutInChunksOf100Channels(t *testing.T) {
	var events []chat.Event
	for i := 0; i < 250; i++ {
		events = append(events, chat.Event{Channel: fmt.Sprintf("private-user-u%d", i), Name: "user-status-change", Data: []byte(`{"user_id":"x","online":true}`)})
	}
	calls, _ := plan(events)
	if got, want := len(calls), 3; got != want {
		t.Fatalf("calls = %d, want %d", got, want)
	}
	total := 0
	for _, c := range calls {
		if c.multi == nil {
			t.Fatalf("call is a batch, want a multi-channel trigger")
		}
		if len(c.multi.channels) > MaxChannelsPerEvent {
			t.Errorf("call has %d channels, over the limit", len(c.multi.channels))
		}
		total += len(c.multi.channels)
	}
	if got, want := total, 250; got != want {
		t.Errorf("channels = %d, want %d", got, want)
	}
}

func TestPlanSplitsBatchesAtTen(t *testing.T) {
	var events []chat.Event
	for i := 0; i < 23; i++ {
		events = append(events, chat.Event{Channel: "private-chat-a-b", Name: "new-message", Data: []byte(fmt.Sprintf(`{"id":"%d"}`, i))})
	}
	calls, _ := plan(events)
	if got, want := len(calls), 3; got != want {
		t.Fatalf("calls = %d, want %d", got, want)
	}
	if got, want := calls[0].batch[0].Data, `{"id":"0"}`; got != want {
		t.Errorf("first event data = %v, want %v (order kept)", got, want)
	}
}

func TestSlimKeepsSmallDataAndStubsLargeData(t *testing.T) {
	small := []byte(`{"id":"1","body":"hi"}`)
	if got := Slim(small); string(got) != string(small) {
		t.Errorf("Slim(small) = %s, want unchanged", got)
	}
	large, _ := json.Marshal(map[string]string{"id": "1", "channel": "private-chat-a-b", "body": strings.Repeat("\u0001", 4000)})
	slim := Slim(large)
	if len(slim) > MaxEventDataBytes {
		t.Fatalf("slim data is %d bytes, over the limit", len(slim))
	}
	var fields map[string]any
	if err := json.Unmarshal(slim, &fields); err != nil {
		t.Fatalf("slim data is not JSON: %v", err)
	}
	if fields["id"] != "1" || fields["truncated"] != true || fields["body"] != nil {
		t.Errorf("slim data = %s, want id kept, body dropped, truncated true", slim)
	}
}

// An online then an offline status change of one user must reach a channel
// in that order, even when the second goes to more channels.
func TestPlanKeepsTheOrderOnEveryChannel(t *testing.T) {
	online := []byte(`{"user_id":"x","online":true}`)
	offline := []byte(`{"user_id":"x","online":false}`)
	calls, _ := plan([]chat.Event{
		{Channel: "private-user-a", Name: "user-status-change", Data: online},
		{Channel: "private-user-a", Name: "user-status-change", Data: offline},
		{Channel: "private-user-b", Name: "user-status-change", Data: offline},
	})
	var sequence []string
	for _, c := range calls {
		if c.multi != nil {
			for _, ch := range c.multi.channels {
				sequence = append(sequence, ch+" "+c.multi.data)
			}
			continue
		}
		for _, e := range c.batch {
			sequence = append(sequence, e.Channel+" "+e.Data.(string))
		}
	}
	want := []string{"private-user-a " + string(online), "private-user-a " + string(offline), "private-user-b " + string(offline)}
	if fmt.Sprint(sequence) != fmt.Sprint(want) {
		t.Errorf("sent in the order\n%v\nwant\n%v", sequence, want)
	}
}

func TestPlanLeavesOutChannelsPusherRefuses(t *testing.T) {
	long := "private-user-" + strings.Repeat("=2D", 60)
	calls, invalid := plan([]chat.Event{
		{Channel: "private-user-a", Name: "user-status-change", Data: []byte(`{}`)},
		{Channel: long, Name: "user-status-change", Data: []byte(`{}`)},
		{Channel: "private-user-b c", Name: "user-status-change", Data: []byte(`{}`)},
	})
	if got, want := len(invalid), 2; got != want {
		t.Fatalf("invalid = %d, want %d", got, want)
	}
	if got := calls[0].size(); len(calls) != 1 || got != 1 {
		t.Errorf("calls = %+v, want one call for the valid channel", calls)
	}
}

func TestPlanGivesEveryEventOfTheLogItsPollID(t *testing.T) {
	calls, _ := plan([]chat.Event{
		{Cursor: chat.Cursor{XID: 7, Seq: 41}, Channel: "private-user-u1", Name: "user-status-change", Data: []byte(`{"user_id":"x","online":true}`)},
		{Cursor: chat.Cursor{XID: 7, Seq: 42}, Channel: "private-user-u2", Name: "user-status-change", Data: []byte(`{"user_id":"x","online":true}`)},
		{Channel: "private-chat-a-b", Name: "typing-start", Data: []byte(`{"user_id":"a","name":"A"}`)},
	})
	if got, want := len(calls), 1; got != want {
		t.Fatalf("calls = %d, want %d", got, want)
	}
	var got []string
	for _, e := range calls[0].batch {
		got = append(got, fmt.Sprint(e.Data))
	}
	want := []string{
		`{"event_id":"7_41","user_id":"x","online":true}`,
		`{"event_id":"7_42","user_id":"x","online":true}`,
		`{"user_id":"a","name":"A"}`, // typing is not in the log: no poll id
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("data =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWithEventIDKeepsEmptyObjectsValidAndSurvivesSlimming(t *testing.T) {
	if got, want := string(WithEventID([]byte(`{}`), chat.Cursor{XID: 1, Seq: 2})), `{"event_id":"1_2"}`; got != want {
		t.Errorf("empty object: %s, want %s", got, want)
	}
	large := []byte(`{"id":"m1","body":"` + strings.Repeat("x", MaxEventDataBytes) + `"}`)
	var fields map[string]any
	if err := json.Unmarshal(Slim(WithEventID(large, chat.Cursor{XID: 3, Seq: 4})), &fields); err != nil {
		t.Fatal(err)
	}
	if fields["event_id"] != "3_4" || fields["truncated"] != true || fields["body"] != nil {
		t.Errorf("slimmed = %v, want event_id 3_4, truncated and no body", fields)
	}
}
