package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/chat"
)

// staleExistsSQL is the cheap probe run before claiming stale events: is the
// oldest pending event old enough? One step on events_pending's key and one
// lookup of its event, however many events are waiting or were ever logged.
// (Filtering on created_at instead would visit every pending row: when Pusher
// falls behind that probe grows with the backlog and makes it worse.) A
// pending row whose event is gone counts as stale, so the claim drops it. Ids
// follow commit order only roughly, so a stale event behind a younger oldest
// one waits for the next probe or the cron. $1 is the minimum age in
// microseconds.
const staleExistsSQL = `SELECT coalesce((
  SELECT e.id IS NULL OR e.created_at <= now() - $1::bigint * interval '1 microsecond'
  FROM events_pending p ` + pendingEventJoin + `
  ORDER BY p.event_id LIMIT 1), false)`

// claimStaleSQL locks the oldest pending events of at least the given age.
// SKIP LOCKED lets concurrent sweeps (the cron, other functions' stale steps,
// the database webhook) and acknowledgements share the rows without waiting
// or colliding. Uncommitted rows are invisible here, so a writer still in its
// transaction is never raced; the minimum age spares a function publishing
// its own rows right after commit. A pending row whose event is gone (deleted
// by hand) comes back with NULL columns, and the claim drops it.
const claimStaleSQL = `SELECT ` + claimSelect + `
FROM events_pending p ` + pendingEventJoin + `
WHERE e.id IS NULL OR e.created_at <= now() - $1::bigint * interval '1 microsecond'
ORDER BY p.event_id
LIMIT $2
FOR UPDATE OF p SKIP LOCKED`

// claimSelect is a claimed pending row and its event (see claimedRow).
const claimSelect = `p.event_id, e.xid::text, e.channel, e.event, e.data::text, e.created_at`

// pendingEventJoin gives each pending row p its event e (NULL columns when
// the event is gone) by one lookup of events' key per pending row. Every
// query that starts from events_pending uses it instead of a plain join:
// with statistics from a backlog Postgres merge- or hash-joined the two and
// read events from the start of the log, and the log holds days of events.
// OFFSET 0 keeps Postgres from flattening the subquery back into a join.
const pendingEventJoin = `LEFT JOIN LATERAL (
  SELECT ev.id, ev.xid, ev.channel, ev.event, ev.data, ev.dedupe_key, ev.created_at
  FROM events ev WHERE ev.id = p.event_id OFFSET 0) e ON true`

// unpendSQL records events as published: their pending rows go. SKIP LOCKED:
// a row another transaction holds is a redelivery's, which deletes it itself
// when it succeeds (a duplicate at worst, and clients de-duplicate).
const unpendSQL = `DELETE FROM events_pending WHERE event_id IN (
  SELECT event_id FROM events_pending WHERE event_id = ANY ($1::bigint[])
  FOR UPDATE SKIP LOCKED)`

// claimedUnpendSQL deletes rows the claiming transaction already holds.
const claimedUnpendSQL = `DELETE FROM events_pending WHERE event_id = ANY ($1::bigint[])`

const countUnpublishedSQL = `SELECT count(*) FROM events_pending`

// deleteBeforeSQL deletes the oldest events created before $1 and their
// pending rows. Identity ids grow with time, so the first id at or after the
// cutoff bounds the scan: the statement reads the old rows and stops, instead
// of scanning the whole log for a created_at that has no index.
const deleteBeforeSQL = `WITH bound AS (
  SELECT coalesce((SELECT id FROM events WHERE created_at >= $1::timestamptz ORDER BY id LIMIT 1),
                  (SELECT max(id) + 1 FROM events), 0) AS id
), doomed AS (
  SELECT e.id FROM events e, bound
  WHERE e.id < bound.id AND e.created_at < $1::timestamptz
  ORDER BY e.id
  LIMIT $2
), gone AS (
  DELETE FROM events WHERE id IN (SELECT id FROM doomed) RETURNING id
), unpended AS (
  DELETE FROM events_pending WHERE event_id IN (SELECT id FROM gone)
)
SELECT count(*) FROM gone`

// ClaimStaleEvents delivers up to limit pending events at least age old,
// oldest first, and deletes their pending rows in the same transaction; rows
// another transaction holds are skipped. When nothing is stale it costs one
// query and no transaction.
func (db *DB) ClaimStaleEvents(ctx context.Context, age time.Duration, limit int, deliver chat.DeliverFunc) (int, error) {
	if limit < 1 {
		return 0, nil
	}
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	var stale bool
	if err := db.pool.QueryRow(ctx, staleExistsSQL, age.Microseconds()).Scan(&stale); err != nil {
		return 0, fmt.Errorf("store: claim stale events: %w", err)
	}
	if !stale {
		return 0, nil
	}
	n, err := db.claim(ctx, deliver, claimStaleSQL, age.Microseconds(), limit)
	if err != nil {
		return 0, fmt.Errorf("store: claim stale events: %w", err)
	}
	return n, nil
}

// claim locks the pending rows query selects, hands their events to deliver
// and deletes the rows, in one transaction. The row locks are held during
// delivery, so a concurrent claim skips these rows instead of publishing them
// again; if deliver fails or the function dies, the rollback leaves them
// pending.
func (db *DB) claim(ctx context.Context, deliver chat.DeliverFunc, query string, args ...any) (int, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	ids, events, err := collectClaimed(tx.Query(ctx, query, args...))
	if err != nil {
		return 0, fmt.Errorf("lock events: %w", err)
	}
	if len(ids) == 0 {
		return 0, tx.Commit(ctx)
	}
	return deliverClaimed(ctx, tx, ids, events, deliver)
}

// deliverClaimed hands the claimed events to deliver, then deletes the
// claimed pending rows and commits: the end of every claim.
func deliverClaimed(ctx context.Context, tx pgx.Tx, ids []int64, events []chat.Event, deliver chat.DeliverFunc) (int, error) {
	if len(events) > 0 {
		if err := deliver(ctx, events); err != nil {
			return 0, err
		}
	}
	if _, err := tx.Exec(ctx, claimedUnpendSQL, ids); err != nil {
		return 0, fmt.Errorf("mark published: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		// Delivered but not marked: they go out again later, and clients
		// de-duplicate.
		return 0, fmt.Errorf("commit: %w", err)
	}
	return len(events), nil
}

// collectClaimed reads rows of claimSelect: every pending id claimed, and the
// events of those whose event still exists.
func collectClaimed(rows pgx.Rows, err error) (ids []int64, events []chat.Event, _ error) {
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id                  int64
			xid, ch, name, data *string
			createdAt           *time.Time
		)
		if err := rows.Scan(&id, &xid, &ch, &name, &data, &createdAt); err != nil {
			return nil, nil, err
		}
		ids = append(ids, id)
		if xid == nil {
			continue // the event was deleted
		}
		c := eventColumns{seq: id, xid: *xid, channel: *ch, name: *name, data: *data, createdAt: *createdAt}
		e, err := c.event()
		if err != nil {
			return nil, nil, err
		}
		events = append(events, e)
	}
	return ids, events, rows.Err()
}

// CountUnpublished counts the events not yet published.
func (db *DB) CountUnpublished(ctx context.Context) (int, error) {
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	var n int
	if err := db.pool.QueryRow(ctx, countUnpublishedSQL).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count unpublished: %w", err)
	}
	return n, nil
}

// DeleteEventsBefore deletes up to limit events created before t, oldest
// first, published or not: the messages table is the record, and an event
// older than the retention is no longer worth pushing.
func (db *DB) DeleteEventsBefore(ctx context.Context, t time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, nil
	}
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	var n int
	if err := db.pool.QueryRow(ctx, deleteBeforeSQL, t.UTC(), limit).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: delete old events: %w", err)
	}
	return n, nil
}
