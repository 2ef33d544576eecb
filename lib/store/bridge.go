package store

import (
	"context"
	"fmt"

	"github.com/chatwire/chatwire/lib/chat"
)

// maxRowEvents bounds one row's claim; a row has a handful of events.
const maxRowEvents = 100

// claimRowSQL locks the unpublished events of one row, as the schema's
// triggers wrote them: by dedupe key ($1: new-message:<id> and
// message-notification:<id>), message-read events naming the message ($2),
// user-joined events of a member by dedupe key prefix ($3), or user-left
// events of a member ($4 channel, $5 user). Restricting to unpublished rows
// keeps the scan on the small events_unpublished index.
const claimRowSQL = `SELECT ` + eventSelect + ` FROM events
WHERE published_at IS NULL
  AND (dedupe_key = ANY ($1::text[])
       OR ($2::text IS NOT NULL AND event = 'message-read'
           AND data -> 'message_ids' @> jsonb_build_array($2::text))
       OR ($3::text IS NOT NULL AND event = 'user-joined' AND starts_with(dedupe_key, $3::text))
       OR ($4::text IS NOT NULL AND event = 'user-left'
           AND channel = $4::text AND data ->> 'user_id' = $5::text))
ORDER BY id
LIMIT $6
FOR UPDATE SKIP LOCKED`

// ClaimRowEvents delivers the unpublished events the triggers wrote for one
// row and marks them published, in one transaction (see claim).
func (db *DB) ClaimRowEvents(ctx context.Context, row chat.RowEvents, deliver chat.DeliverFunc) (int, error) {
	var (
		keys           = []string{}
		readID, prefix *string
		leftChannel    *string
		leftUser       *string
	)
	switch {
	case row.MessageID != "":
		keys = append(keys, "new-message:"+row.MessageID, "message-notification:"+row.MessageID)
		readID = &row.MessageID
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
	n, err := db.claim(ctx, deliver, claimRowSQL, keys, readID, prefix, leftChannel, leftUser, maxRowEvents)
	if err != nil {
		return 0, fmt.Errorf("store: claim row events: %w", err)
	}
	return n, nil
}
