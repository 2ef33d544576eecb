package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/chat"
)

// oldestPendingSQL is the relay's wake-up probe: the age of the first pending
// row by id, one step on events_pending's key and one lookup of its event. A
// pending row whose event is gone counts as ripe (the claim drops it). No
// row: no result.
const oldestPendingSQL = `SELECT coalesce(extract(epoch FROM now() - e.created_at), 1e9)::float8
FROM events_pending p ` + pendingEventJoin + `
ORDER BY p.event_id LIMIT 1`

// pendingWindowSQL reads, without locking, the first $2 pending rows by id
// with their channel and whether they are ripe: older than the grace period
// ($1 µs) that spares senders publishing their own events, or without an
// event at all. Locked rows are read too: that is how a claim learns which
// channels another transaction holds.
const pendingWindowSQL = `SELECT p.event_id, coalesce(e.channel, ''),
       (e.id IS NULL OR e.created_at <= now() - $1::bigint * interval '1 microsecond')
FROM events_pending p ` + pendingEventJoin + `
ORDER BY p.event_id
LIMIT $2`

// lockPendingSQL locks the given pending rows that no other transaction
// holds, with their events.
const lockPendingSQL = `SELECT ` + claimSelect + `
FROM events_pending p ` + pendingEventJoin + `
WHERE p.event_id = ANY ($1::bigint[])
ORDER BY p.event_id
FOR UPDATE OF p SKIP LOCKED`

// OldestPendingAge returns the age of the oldest pending event by id, and
// false when nothing is pending. One index step, whatever the backlog.
func (db *DB) OldestPendingAge(ctx context.Context) (time.Duration, bool, error) {
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	var seconds float64
	err := db.pool.QueryRow(ctx, oldestPendingSQL).Scan(&seconds)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: oldest pending event: %w", err)
	}
	return time.Duration(seconds * float64(time.Second)), true, nil
}

// ClaimPendingInOrder delivers up to limit pending events older than grace,
// oldest first, and deletes their pending rows in the same transaction, as
// ClaimStaleEvents does, but never lets an event overtake an earlier pending
// event of its channel: it looks at a window of the first pending rows, and a
// channel with a row it cannot take (too young, or held by another claim) is
// left alone from that row on. So several relays, the cron and the stale step
// can claim at once and each channel's events still go out in log order.
//
// Only committed rows can hold a channel back: an event of a transaction
// still open when a later one of its channel is claimed goes out after it.
// The grace period makes that a transaction open for longer than grace.
//
// Rows it locked but did not take stay pending; other claims skip them until
// this transaction ends. When deliver fails nothing changes.
func (db *DB) ClaimPendingInOrder(ctx context.Context, grace time.Duration, limit int, deliver chat.DeliverFunc) (int, error) {
	if limit < 1 {
		return 0, nil
	}
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	n, err := db.claimInOrder(ctx, grace, limit, deliver)
	if err != nil {
		return 0, fmt.Errorf("store: claim pending events: %w", err)
	}
	return n, nil
}

// claimWindowFactor sizes the window a claim reads: rows of blocked
// channels do not use up the batch.
const claimWindowFactor = 4

// pendingRow is a row of pendingWindowSQL.
type pendingRow struct {
	id      int64
	channel string
	ripe    bool
}

func (db *DB) claimInOrder(ctx context.Context, grace time.Duration, limit int, deliver chat.DeliverFunc) (int, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	rows, err := tx.Query(ctx, pendingWindowSQL, grace.Microseconds(), limit*claimWindowFactor)
	if err != nil {
		return 0, fmt.Errorf("read pending: %w", err)
	}
	window, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (pendingRow, error) {
		var r pendingRow
		return r, row.Scan(&r.id, &r.channel, &r.ripe)
	})
	if err != nil {
		return 0, fmt.Errorf("read pending: %w", err)
	}
	var ripe []int64
	for _, r := range window {
		if r.ripe {
			ripe = append(ripe, r.id)
		}
	}
	if len(ripe) == 0 {
		return 0, nil
	}
	lockedIDs, lockedEvents, err := collectClaimed(tx.Query(ctx, lockPendingSQL, ripe))
	if err != nil {
		return 0, fmt.Errorf("lock pending: %w", err)
	}
	ids, events := takeInOrder(window, lockedIDs, lockedEvents, limit)
	if len(ids) == 0 {
		return 0, nil
	}
	return deliverClaimed(ctx, tx, ids, events, deliver)
}

// takeInOrder walks the window in id order and takes each row this claim
// locked, up to limit, unless an earlier row of the same channel was not
// taken: once a channel meets a row that stays behind (too young, held by
// another transaction, already gone, or past the limit) the rest of that
// channel stays behind too. Pending rows whose event is gone are taken
// (dropped) whatever their position. It returns the pending ids to delete
// and the events to deliver, in id order.
func takeInOrder(window []pendingRow, lockedIDs []int64, lockedEvents []chat.Event, limit int) ([]int64, []chat.Event) {
	locked := make(map[int64]bool, len(lockedIDs))
	for _, id := range lockedIDs {
		locked[id] = true
	}
	eventOf := make(map[int64]chat.Event, len(lockedEvents))
	for _, e := range lockedEvents {
		eventOf[e.Seq] = e
	}
	blocked := map[string]bool{}
	var (
		ids    []int64
		events []chat.Event
	)
	for _, r := range window {
		e, hasEvent := eventOf[r.id]
		switch {
		case locked[r.id] && !hasEvent:
			ids = append(ids, r.id) // the event was deleted: drop the row
		case locked[r.id] && len(events) < limit && !blocked[e.Channel]:
			ids = append(ids, r.id)
			events = append(events, e)
		default:
			blocked[r.channel] = true
		}
	}
	return ids, events
}
