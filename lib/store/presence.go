package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/chat"
)

// ensureUsersSQL gives every user a row to lock: a presence webhook may come
// for a user who never sent a message.
const ensureUsersSQL = `INSERT INTO users (id) SELECT unnest($1::text[]) ORDER BY 1 ON CONFLICT DO NOTHING`

// applyPresenceSQL applies one user's change only when it is newer than the
// last applied one ($3 > presence_changed_at), so late or repeated webhooks
// never move the status backwards. The old row, locked first, tells whether
// the status actually changed (an UPDATE's RETURNING sees only the new row);
// only then is last_active_at set and a user-status-change event written to
// the private channel of everyone who may see the user
// (chatwire_presence_audience; nobody when the user hides their status), in
// this very statement and transaction. A newer webhook that changes nothing still
// advances presence_changed_at, so an older one arriving after it is ignored.
const applyPresenceSQL = `WITH old AS (
  SELECT id, online FROM users WHERE id = $1::text FOR UPDATE
), applied AS (
  UPDATE users u
  SET online = $2::boolean,
      presence_changed_at = $3::timestamptz,
      last_active_at = CASE WHEN old.online <> $2::boolean OR u.last_active_at IS NULL
                            THEN $3::timestamptz ELSE u.last_active_at END
  FROM old
  WHERE u.id = old.id AND (u.presence_changed_at IS NULL OR u.presence_changed_at < $3::timestamptz)
  RETURNING u.id, u.online, u.last_active_at, old.online <> u.online AS changed, u.presence_hidden
), audience AS (
  SELECT a AS id FROM chatwire_presence_audience($1::text) a
), written AS (
  INSERT INTO events (channel, event, data, recipients)
  SELECT chatwire_user_channel(a.id), 'user-status-change',
         jsonb_build_object('user_id', ap.id, 'online', ap.online,
                            'last_active_at', chatwire_time(ap.last_active_at)),
         ARRAY[a.id]
  FROM applied ap CROSS JOIN audience a
  WHERE ap.changed AND NOT ap.presence_hidden
  ORDER BY a.id
)
SELECT id, online, last_active_at FROM applied WHERE changed`

// presenceSQL keeps the order of the ids asked for; a user the viewer ($2)
// may not see reads exactly as an unknown one.
const presenceSQL = `SELECT q.id, coalesce(u.online, false) AND v.sees, CASE WHEN v.sees THEN u.last_active_at END
FROM unnest($1::text[]) WITH ORDINALITY AS q (id, n)
LEFT JOIN users u ON u.id = q.id
CROSS JOIN LATERAL (SELECT chatwire_sees($2::text, q.id) AS sees) v
ORDER BY q.n`

// ApplyPresence applies status changes in one transaction (one batch, one
// round trip) and returns the users whose status changed and the
// user-status-change events written. Callers pass changes sorted by user id,
// so concurrent calls lock rows in the same order.
func (db *DB) ApplyPresence(ctx context.Context, changes []chat.PresenceChange) (chat.PresenceApplied, error) {
	if len(changes) == 0 {
		return chat.PresenceApplied{}, nil
	}
	ids := make([]string, len(changes))
	for i, c := range changes {
		if err := checkText("channel", c.UserID); err != nil {
			return chat.PresenceApplied{}, err
		}
		ids[i] = c.UserID
	}
	b := &pgx.Batch{}
	b.Queue(ensureUsersSQL, ids)
	for _, c := range changes {
		b.Queue(applyPresenceSQL, c.UserID, c.Online, c.At.UTC())
	}
	b.Queue(ownEventsSQL)

	ctx, cancel := db.deadline(ctx)
	defer cancel()
	applied, err := db.sendPresence(ctx, b, len(changes))
	if err != nil {
		return chat.PresenceApplied{}, fmt.Errorf("store: apply presence: %w", err)
	}
	return applied, nil
}

func (db *DB) sendPresence(ctx context.Context, b *pgx.Batch, n int) (applied chat.PresenceApplied, err error) {
	br := db.pool.SendBatch(ctx, b)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	if _, err := br.Exec(); err != nil {
		return applied, fmt.Errorf("ensure users: %w", err)
	}
	for range n {
		changed, err := collectPresence(br.Query())
		if err != nil {
			return applied, err
		}
		applied.Changed = append(applied.Changed, changed...)
	}
	if applied.Events, err = collectEvents(br.Query()); err != nil {
		return applied, fmt.Errorf("read events: %w", err)
	}
	return applied, nil
}

// Presence returns each user's status as viewerID may see it, in the order of
// ids; unknown users, and users the viewer may not see, are offline with no
// last_active_at.
func (db *DB) Presence(ctx context.Context, viewerID string, ids []string) ([]chat.UserPresence, error) {
	if err := checkText("user", viewerID); err != nil {
		return nil, err
	}
	for _, id := range ids {
		if err := checkText("user_ids", id); err != nil {
			return nil, err
		}
	}
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	users, err := collectPresence(db.pool.Query(ctx, presenceSQL, ids, viewerID))
	if err != nil {
		return nil, fmt.Errorf("store: presence: %w", err)
	}
	return users, nil
}

// collectPresence reads (id, online, last_active_at) rows; it takes Query's two results.
func collectPresence(rows pgx.Rows, err error) ([]chat.UserPresence, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	users := []chat.UserPresence{}
	for rows.Next() {
		var (
			p  chat.UserPresence
			at *time.Time
		)
		if err := rows.Scan(&p.UserID, &p.Online, &at); err != nil {
			return nil, err
		}
		p.LastActiveAt = at
		users = append(users, p)
	}
	return users, rows.Err()
}
