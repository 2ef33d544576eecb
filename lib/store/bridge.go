package store

import (
	"context"
	"fmt"

	"github.com/chatwire/chatwire/lib/chat"
)

// maxRowEvents bounds one row's claim; a row has a handful of events.
const maxRowEvents = 100

// claimRowSQL locks the pending events of one row, as the schema's triggers
// wrote them: a message's new-message and message-notification events (by the
// id in their data, $1), the message-read events naming it and its edits,
// tombstone and reactions (message-updated, message-deleted, reaction-changed), user-joined
// events of a member by dedupe key prefix ($2), or user-left events of a
// member ($3 channel, $4 user). Starting from events_pending, with one lookup
// of each pending row's event (pendingEventJoin), keeps the scan to the
// events not yet published, a handful when Pusher keeps up.
const claimRowSQL = `SELECT ` + claimSelect + `
FROM events_pending p ` + pendingEventJoin + `
WHERE ($1::text IS NOT NULL
       AND ((e.event = 'new-message' AND e.data ->> 'id' = $1::text)
            OR (e.event = 'message-notification' AND e.data ->> 'message_id' = $1::text)
            OR (e.event = 'message-read' AND e.data -> 'message_ids' @> jsonb_build_array($1::text))
            OR (e.event IN ('message-updated', 'message-deleted') AND e.data ->> 'id' = $1::text)
            OR (e.event = 'reaction-changed' AND e.data ->> 'message_id' = $1::text)))
   OR ($2::text IS NOT NULL AND e.event = 'user-joined' AND starts_with(e.dedupe_key, $2::text))
   OR ($3::text IS NOT NULL AND e.event = 'user-left'
       AND e.channel = $3::text AND e.data ->> 'user_id' = $4::text)
ORDER BY p.event_id
LIMIT $5
FOR UPDATE OF p SKIP LOCKED`

// ClaimRowEvents delivers the pending events the triggers wrote for one row
// and deletes their pending rows, in one transaction (see claim).
func (db *DB) ClaimRowEvents(ctx context.Context, row chat.RowEvents, deliver chat.DeliverFunc) (int, error) {
	var (
		messageID, prefix *string
		leftChannel       *string
		leftUser          *string
	)
	switch {
	case row.MessageID != "":
		messageID = &row.MessageID
	case row.Left:
		ch := chat.RoomChannel(row.RoomID)
		leftChannel, leftUser = &ch, &row.UserID
	default:
		// The dedupe key of chatwire_members_joined, up to the joined_at.
		p := "user-joined:" + chat.Enc(row.RoomID) + ":" + chat.Enc(row.UserID) + ":"
		prefix = &p
	}
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	n, err := db.claim(ctx, deliver, claimRowSQL, messageID, prefix, leftChannel, leftUser, maxRowEvents)
	if err != nil {
		return 0, fmt.Errorf("store: claim row events: %w", err)
	}
	return n, nil
}
