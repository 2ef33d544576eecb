package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/chat"
)

// ownEventsSQL reads the events the triggers wrote in the current transaction,
// in the order they were written. A row written earlier in the same
// transaction is visible to later statements; _if_assigned avoids burning a
// transaction id when nothing was written.
const ownEventsSQL = `SELECT id, xid::text, channel, event, data::text, created_at
FROM events WHERE xid = pg_current_xact_id_if_assigned() ORDER BY id`

// eventColumns matches ownEventsSQL's select list; xid and data travel as
// text so that every query exec mode (including simple_protocol) reads them
// the same way.
type eventColumns struct {
	seq       int64
	xid       string
	channel   string
	name      string
	data      string
	createdAt time.Time
}

func (c *eventColumns) dest() []any {
	return []any{&c.seq, &c.xid, &c.channel, &c.name, &c.data, &c.createdAt}
}

func (c *eventColumns) event() (chat.Event, error) {
	xid, err := parseXID(c.xid)
	if err != nil {
		return chat.Event{}, err
	}
	return chat.Event{
		Seq:       c.seq,
		Cursor:    chat.Cursor{XID: xid, Seq: c.seq},
		Channel:   c.channel,
		Name:      c.name,
		Data:      json.RawMessage(c.data),
		CreatedAt: c.createdAt,
	}, nil
}

// collectEvents reads the rows of ownEventsSQL; it takes Query's two results.
func collectEvents(rows pgx.Rows, err error) ([]chat.Event, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var events []chat.Event
	var c eventColumns
	for rows.Next() {
		if err := rows.Scan(c.dest()...); err != nil {
			return nil, err
		}
		e, err := c.event()
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	return events, rows.Err()
}

func parseXID(s string) (uint64, error) {
	x, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("transaction id %q: %w", s, err)
	}
	return x, nil
}

// MarkPublished records that Pusher accepted these events, so redelivery
// skips them: their pending rows go, in a transaction of their own (a send
// carries them in its own instead, see SendMessage). Rows already gone are
// left alone, and so are rows a redelivery holds right now.
func (db *DB) MarkPublished(ctx context.Context, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	if _, err := db.pool.Exec(ctx, unpendSQL, seqs); err != nil {
		return fmt.Errorf("store: mark published: %w", err)
	}
	return nil
}
