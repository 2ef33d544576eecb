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
// statement, so it is the very snapshot the rows were read with.
//
// The scan is bounded: it reads no more than $5 rows of the log (whoever they
// are for), so a client with a very old cursor makes progress in bounded steps
// instead of timing out on every poll and never moving. Each row read is
// numbered (n) and flagged (hit: the user may see it); the statement returns
// the hits and, when the budget is used up, the last row read (n = $5) so the
// client can continue after it. The user's room channels are read once, as an
// array, rather than probed per row. Everything streams in events_log order,
// so the LIMIT stops the scan as soon as the page is full. The LEFT JOIN yields
// one row carrying xmin even when nothing was read.
//
// $1, $2: cursor; $3: user; $4: page size + 1; $5: scan budget.
const pollSQL = `WITH s AS (
  SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin,
         ARRAY(SELECT chatwire_room_channel(room_id) FROM room_members WHERE user_id = $3::text) AS rooms
)
SELECT s.xmin::text, p.n, p.hit, p.id, p.xid::text, p.channel, p.event, p.data::text, p.created_at
FROM s LEFT JOIN LATERAL (
  SELECT x.* FROM (
    SELECT w.*, row_number() OVER (ORDER BY w.xid, w.id) AS n
    FROM (
      SELECT ev.id, ev.xid, ev.channel, ev.event, ev.data, ev.created_at,
             ($3::text = ANY (ev.recipients) OR ev.channel = ANY (s.rooms)) AS hit
      FROM events ev
      WHERE (ev.xid, ev.id) > ($1::text::xid8, $2::bigint)
        AND ev.xid < s.xmin
      ORDER BY ev.xid, ev.id
      LIMIT $5
    ) w
  ) x
  WHERE x.hit OR x.n = $5
  ORDER BY x.xid, x.id
  LIMIT $4
) p ON true
ORDER BY p.xid, p.id`

// defaultPollScanBudget bounds the log rows one poll reads: a few milliseconds
// of work, whatever the cursor.
const defaultPollScanBudget = 10_000

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
// in cursor order, and the cursor to continue from. One statement. More is
// also set, possibly with no events, when the poll stopped at its scan budget
// before reaching the newest final event.
func (db *DB) Poll(ctx context.Context, userID string, after chat.Cursor, limit int) (chat.PollPage, error) {
	if limit < 1 {
		return chat.PollPage{}, chat.FieldError("limit", "must be at least 1")
	}
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	// One more than asked tells whether there is more.
	rows, err := db.pool.Query(ctx, pollSQL,
		strconv.FormatUint(after.XID, 10), after.Seq, userID, limit+1, db.pollScanBudget)
	if err != nil {
		return chat.PollPage{}, fmt.Errorf("store: poll: %w", err)
	}
	page, xmin, windowEnd, err := collectPoll(rows, limit, db.pollScanBudget)
	if err != nil {
		return chat.PollPage{}, fmt.Errorf("store: poll: %w", err)
	}
	n := len(page.Events)
	switch {
	case page.More:
		// Continue right after the last event handed out.
		page.Next = page.Events[n-1].Cursor
	case windowEnd != nil:
		// The scan budget ran out before xmin: continue after the rows read.
		page.More = true
		page.Next = *windowEnd
	default:
		// Everything below xmin this user may see has been handed out: skip
		// ahead to (xmin, 0), so the next poll need not rescan irrelevant rows.
		page.Next = maxCursor(after, xmin)
		if n > 0 {
			page.Next = maxCursor(page.Next, page.Events[n-1].Cursor)
		}
	}
	return page, nil
}

// collectPoll reads pollSQL's rows: the page (More when there was a row beyond
// limit), the cursor (xmin, 0), and the last row read when the scan budget
// (budget rows) was used up.
func collectPoll(rows pgx.Rows, limit, budget int) (page chat.PollPage, xmin chat.Cursor, windowEnd *chat.Cursor, err error) {
	defer rows.Close()
	var (
		xminText string
		n        *int64
		hit      *bool
		c        eventColumns
		seq      *int64
		xid      *string
		ch       *string
		name     *string
		data     *string
		at       *time.Time
	)
	for rows.Next() {
		if err := rows.Scan(&xminText, &n, &hit, &seq, &xid, &ch, &name, &data, &at); err != nil {
			return page, xmin, nil, err
		}
		if seq == nil { // nothing read: the LEFT JOIN's empty side
			continue
		}
		c = eventColumns{seq: *seq, xid: *xid, channel: *ch, name: *name, data: *data, createdAt: *at}
		e, err := c.event()
		if err != nil {
			return page, xmin, nil, err
		}
		if *n == int64(budget) {
			windowEnd = &e.Cursor
		}
		switch {
		case !*hit:
		case len(page.Events) == limit:
			page.More = true
		default:
			page.Events = append(page.Events, e)
		}
	}
	if err := rows.Err(); err != nil {
		return page, xmin, nil, err
	}
	x, err := parseXID(xminText)
	if err != nil {
		return page, xmin, nil, err
	}
	return page, chat.Cursor{XID: x}, windowEnd, nil
}

func maxCursor(a, b chat.Cursor) chat.Cursor {
	if a.After(b) {
		return a
	}
	return b
}
