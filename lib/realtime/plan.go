package realtime

import (
	"encoding/json"

	"github.com/pusher/pusher-http-go/v5"

	"github.com/chatwire/chatwire/lib/chat"
)

// call is one HTTP request to Pusher: a multi-channel trigger or a batch.
type call struct {
	multi *multiTrigger
	batch []pusher.Event
}

type multiTrigger struct {
	name     string
	data     string
	channels []string
}

func (c call) size() int {
	if c.multi != nil {
		return len(c.multi.channels)
	}
	return len(c.batch)
}

// plan groups events into Pusher calls, keeping the order of first appearance.
// Oversized data is replaced by a stub (see Slim) so one large message cannot
// block the rest of the batch.
func plan(events []chat.Event) []call {
	type key struct{ name, data string }
	var order []key
	groups := map[key][]string{}
	for _, e := range events {
		k := key{e.Name, string(Slim(e.Data))}
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], e.Channel)
	}
	var calls []call
	var batch []pusher.Event
	flush := func() {
		if len(batch) > 0 {
			calls = append(calls, call{batch: batch})
			batch = nil
		}
	}
	for _, k := range order {
		channels := groups[k]
		if len(channels) == 1 {
			batch = append(batch, pusher.Event{Channel: channels[0], Name: k.name, Data: k.data})
			if len(batch) == MaxEventsPerBatch {
				flush()
			}
			continue
		}
		for start := 0; start < len(channels); start += MaxChannelsPerEvent {
			end := min(start+MaxChannelsPerEvent, len(channels))
			calls = append(calls, call{multi: &multiTrigger{name: k.name, data: k.data, channels: channels[start:end]}})
		}
	}
	flush()
	return calls
}

// Slim returns data unchanged when it fits Pusher's 10 KB limit. Otherwise it
// drops the large fields ("body", "attachment", "preview") and adds
// "truncated": true; clients then read the full message from history or poll,
// which always carry it whole.
func Slim(data []byte) []byte {
	if len(data) <= MaxEventDataBytes {
		return data
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return []byte(`{"truncated":true}`)
	}
	for _, big := range []string{"body", "attachment", "preview"} {
		delete(fields, big)
	}
	fields["truncated"] = json.RawMessage("true")
	slim, err := json.Marshal(fields)
	if err != nil || len(slim) > MaxEventDataBytes {
		return []byte(`{"truncated":true}`)
	}
	return slim
}
