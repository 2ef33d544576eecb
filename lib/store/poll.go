package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/chat"
)

// currentCursorSQL: every transaction below the snapshot's xmin has ended, so
// every event that will ever exist below it is already visible; transactions
// at or above xmin may still commit rows.
const currentCursorSQL = `SELECT pg_snapshot_xmin(pg_current_snapshot())::text`

// pollSQL hands out, in (xid, id) order, the events after the cursor written by
// transactions below the statement's snapshot xmin — transactions that have all
// ended. Transactions commit out of order, so a bare serial or timestamp would
// let a poller step over a row that an older, still-open transaction commits
// later; the xmin bound cannot. The snapshot xmin is read in the same
// statement, so it is the very snapshot the rows were read with. The LEFT JOIN
// yields one row carrying xmin even when there is no event.
const pollSQL = `WITH s AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
SELECT s.xmin::text, e.id, e.xid::text, e.channel, e.event, e.data::text, e.created_at
FROM s LEFT JOIN LATERAL (
  SELECT ev.id, ev.xid, ev.channel, ev.event, ev.data, ev.created_at
  FROM events ev
  WHERE (ev.xid, ev.id) > ($1::text::xid8, $2::bigint)
    AND ev.xid < s.xmin
    AND ($3::text = ANY (ev.recipients)
         OR ev.channel IN (SELECT chatwire_room_channel(rm.room_id)
                           FROM room_members rm WHERE rm.user_id = $3::text))
  ORDER BY ev.xid, ev.id
  LIMIT $4
) e ON true
ORDER BY e.xid, e.id`

// CurrentCursor is the position before every event not yet final: a client
// starting there receives everything committed from now on.
func (db *DB) CurrentCursor(ctx context.Context) (chat.Cursor, error) {
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	var xmin string
	if err := db.pool.QueryRow(ctx, currentCursorSQL).Scan(&xmin); err != nil {
		return chat.Cursor{}, fmt.Errorf("store: current cursor: %w", err)
	}
	x, err := parseXID(xmin)
	if err != nil {
		return chat.Cursor{}, fmt.Errorf("store: current cursor: %w", err)
	}
	return chat.Cursor{XID: x}, nil
}

// Poll returns up to limit final events after the cursor on channels the user
// may subscribe to (listed as a recipient, or a current member of the room),
// in cursor order, and the cursor to continue from. One statement.
func (db *DB) Poll(ctx context.Context, userID string, after chat.Cursor, limit int) (chat.PollPage, error) {
	if limit < 1 {
		return chat.PollPage{}, chat.FieldError("limit", "must be at least 1")
	}
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	// One more than asked tells whether there is more.
	rows, err := db.pool.Query(ctx, pollSQL,
		strconv.FormatUint(after.XID, 10), after.Seq, userID, limit+1)
	if err != nil {
		return chat.PollPage{}, fmt.Errorf("store: poll: %w", err)
	}
	page, err := collectPoll(rows, limit)
	if err != nil {
		return chat.PollPage{}, fmt.Errorf("store: poll: %w", err)
	}
	// With more to come, continue right after the last event. Otherwise skip
	// ahead to (xmin, 0): everything below xmin that this user may see has
	// been handed out, so the next poll need not rescan irrelevant rows. The
	// cursor never moves backwards.
	xminCursor := page.Next
	switch n := len(page.Events); {
	case page.More:
		page.Next = page.Events[n-1].Cursor
	case n > 0:
		page.Next = maxCursor(maxCursor(after, xminCursor), page.Events[n-1].Cursor)
	default:
		page.Next = maxCursor(after, xminCursor)
	}
	return page, nil
}

// collectPoll reads pollSQL's rows into a page whose Next is (xmin, 0) and
// whose More says whether there was a row beyond limit.
func collectPoll(rows pgx.Rows, limit int) (chat.PollPage, error) {
	defer rows.Close()
	var (
		page chat.PollPage
		xmin string
		seq  *int64
		xid  *string
		ch   *string
		name *string
		data *string
		at   *time.Time
	)
	for rows.Next() {
		if err := rows.Scan(&xmin, &seq, &xid, &ch, &name, &data, &at); err != nil {
			return page, err
		}
		if seq == nil { // no event: the LEFT JOIN's empty side
			continue
		}
		if len(page.Events) == limit {
			page.More = true
			continue
		}
		c := eventColumns{seq: *seq, xid: *xid, channel: *ch, name: *name, data: *data, createdAt: *at}
		e, err := c.event()
		if err != nil {
			return page, err
		}
		page.Events = append(page.Events, e)
	}
	if err := rows.Err(); err != nil {
		return page, err
	}
	x, err := parseXID(xmin)
	if err != nil {
		return page, err
	}
	page.Next = chat.Cursor{XID: x}
	return page, nil
}

func maxCursor(a, b chat.Cursor) chat.Cursor {
	if a.After(b) {
		return a
	}
	return b
}
