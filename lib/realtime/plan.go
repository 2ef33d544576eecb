package realtime

import (
	"bytes"
	"encoding/json"
	"regexp"

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

// plan groups events into Pusher calls without changing their order on any
// channel: consecutive events with the same name and data (one fact told to
// many channels, as a status change is) become one multi-channel trigger of
// up to 100 channels; the rest go in batches of up to 10. Oversized data is
// replaced by a stub (see Slim). Events on a channel Pusher would refuse are
// left out and returned: one such row must not fail the whole call, or it
// would block every redelivery claim behind it.
func plan(events []chat.Event) (calls []call, invalid []chat.Event) {
	type run struct {
		name, data string
		channels   []string
	}
	var runs []run
	for _, e := range events {
		if !ValidChannel(e.Channel) {
			invalid = append(invalid, e)
			continue
		}
		data := string(Slim(WithEventID(e.Data, e.Cursor)))
		if n := len(runs); n > 0 && runs[n-1].name == e.Name && runs[n-1].data == data {
			runs[n-1].channels = append(runs[n-1].channels, e.Channel)
			continue
		}
		runs = append(runs, run{name: e.Name, data: data, channels: []string{e.Channel}})
	}
	var batch []pusher.Event
	flush := func() {
		if len(batch) > 0 {
			calls = append(calls, call{batch: batch})
			batch = nil
		}
	}
	for _, r := range runs {
		if len(r.channels) == 1 {
			batch = append(batch, pusher.Event{Channel: r.channels[0], Name: r.name, Data: r.data})
			if len(batch) == MaxEventsPerBatch {
				flush()
			}
			continue
		}
		flush() // what came before goes first
		for start := 0; start < len(r.channels); start += MaxChannelsPerEvent {
			end := min(start+MaxChannelsPerEvent, len(r.channels))
			calls = append(calls, call{multi: &multiTrigger{name: r.name, data: r.data, channels: r.channels[start:end]}})
		}
	}
	flush()
	return calls, invalid
}

// pusherChannel is Pusher's rule for channel names.
var pusherChannel = regexp.MustCompile(`^[-a-zA-Z0-9_=@,.;]+$`)

// ValidChannel reports whether Pusher accepts the channel name.
func ValidChannel(name string) bool {
	return len(name) <= chat.MaxChannelLength && pusherChannel.MatchString(name)
}

// WithEventID adds "event_id", the id poll gives the same event, to the data
// of an event of the log, so a client that gets it both through Pusher and
// through poll can tell it is one event. Data that is not a JSON object, and
// events outside the log (typing, whose cursor is zero), are left unchanged.
func WithEventID(data []byte, cursor chat.Cursor) []byte {
	if cursor == (chat.Cursor{}) || len(data) < 2 || data[0] != '{' {
		return data
	}
	id, err := json.Marshal(cursor.String())
	if err != nil {
		return data
	}
	rest := bytes.TrimSpace(data[1:])
	out := make([]byte, 0, len(data)+len(id)+14)
	out = append(out, `{"event_id":`...)
	out = append(out, id...)
	if len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, rest...)
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
