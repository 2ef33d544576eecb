package store

import (
	"context"
	"fmt"
	"time"

	"github.com/chatwire/chatwire/lib/chat"
)

// staleExistsSQL is the cheap probe run before claiming stale events: is the
// oldest unpublished event old enough? One step on events_unpublished, however
// many events are waiting. (Filtering on created_at instead would visit every
// unpublished row: when Pusher falls behind that probe grows with the backlog
// and makes it worse.) Ids follow commit order only roughly, so a stale event
// behind a younger oldest one waits for the next probe or the cron. $1 is the
// minimum age in microseconds.
const staleExistsSQL = `SELECT coalesce((SELECT created_at <= now() - $1::bigint * interval '1 microsecond'
FROM events WHERE published_at IS NULL ORDER BY id LIMIT 1), false)`

// claimStaleSQL locks the oldest unpublished events of at least the given
// age. SKIP LOCKED lets concurrent sweeps (the cron, other functions' stale
// steps, the database webhook) share the work without waiting or colliding.
// Uncommitted rows are invisible here, so a writer still in its transaction
// is never raced; the minimum age spares a function publishing its own rows
// right after commit.
const claimStaleSQL = `SELECT ` + eventSelect + ` FROM events
WHERE published_at IS NULL AND created_at <= now() - $1::bigint * interval '1 microsecond'
ORDER BY id
LIMIT $2
FOR UPDATE SKIP LOCKED`

// eventSelect matches eventColumns.
const eventSelect = `id, xid::text, channel, event, data::text, created_at`

const markClaimedSQL = `UPDATE events SET published_at = now() WHERE id = ANY ($1::bigint[])`

const countUnpublishedSQL = `SELECT count(*) FROM events WHERE published_at IS NULL`

// deleteBeforeSQL deletes the oldest events created before $1. Identity ids
// grow with time, so the first id at or after the cutoff bounds the scan: the
// statement reads the old rows and stops, instead of scanning the whole log
// for a created_at that has no index.
const deleteBeforeSQL = `WITH bound AS (
  SELECT coalesce((SELECT id FROM events WHERE created_at >= $1::timestamptz ORDER BY id LIMIT 1),
                  (SELECT max(id) + 1 FROM events), 0) AS id
), doomed AS (
  SELECT e.id FROM events e, bound
  WHERE e.id < bound.id AND e.created_at < $1::timestamptz
  ORDER BY e.id
  LIMIT $2
)
DELETE FROM events WHERE id IN (SELECT id FROM doomed)`

// ClaimStaleEvents delivers up to limit unpublished events at least age old,
// oldest first, and marks them published in the same transaction; rows
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

// claim locks the events query selects, hands them to deliver and marks them
// published, in one transaction. The row locks are held during delivery, so
// a concurrent claim skips these rows instead of publishing them again; if
// deliver fails or the function dies, the rollback leaves them unpublished.
func (db *DB) claim(ctx context.Context, deliver chat.DeliverFunc, query string, args ...any) (int, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	events, err := collectEvents(tx.Query(ctx, query, args...))
	if err != nil {
		return 0, fmt.Errorf("lock events: %w", err)
	}
	if len(events) == 0 {
		return 0, tx.Commit(ctx)
	}
	if err := deliver(ctx, events); err != nil {
		return 0, err
	}
	seqs := make([]int64, len(events))
	for i, e := range events {
		seqs[i] = e.Seq
	}
	if _, err := tx.Exec(ctx, markClaimedSQL, seqs); err != nil {
		return 0, fmt.Errorf("mark published: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		// Delivered but not marked: they go out again later, and clients
		// de-duplicate.
		return 0, fmt.Errorf("commit: %w", err)
	}
	return len(events), nil
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
	tag, err := db.pool.Exec(ctx, deleteBeforeSQL, t.UTC(), limit)
	if err != nil {
		return 0, fmt.Errorf("store: delete old events: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
