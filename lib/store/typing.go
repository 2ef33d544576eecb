package store

import (
	"context"
	"fmt"
	"time"
)

// startTypingSQL records a typing start unless the last one in this channel is
// less than the interval ($3, in microseconds) old; the row lives in Postgres so
// every function instance shares the throttle. The upsert's DO UPDATE ... WHERE
// makes the check and the write atomic under concurrent starts. When it did not
// write, the remaining wait comes from the row as this statement's snapshot saw
// it (NULL if a concurrent first start is not visible yet), measured against
// the clock rather than now(): a start that committed after this statement's
// transaction began has a later now() than ours.
const startTypingSQL = `WITH started AS (
  INSERT INTO typing_throttle AS t (user_id, channel, last_start_at)
  VALUES ($1::text, $2::text, now())
  ON CONFLICT (user_id, channel) DO UPDATE SET last_start_at = EXCLUDED.last_start_at
  WHERE t.last_start_at <= now() - $3::bigint * interval '1 microsecond'
  RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM started),
       (SELECT (extract(epoch FROM t.last_start_at + $3::bigint * interval '1 microsecond' - clock_timestamp()) * 1000000)::bigint
        FROM typing_throttle t WHERE t.user_id = $1::text AND t.channel = $2::text)`

// StartTyping records a typing start of the user in channel unless the user
// started less than interval ago; then it returns how long to wait (> 0).
func (db *DB) StartTyping(ctx context.Context, userID, channel string, interval time.Duration) (time.Duration, error) {
	if err := checkText("user_id", userID, "channel", channel); err != nil {
		return 0, err
	}
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	var (
		started bool
		waitUS  *int64
	)
	err := db.pool.QueryRow(ctx, startTypingSQL, userID, channel, interval.Microseconds()).Scan(&started, &waitUS)
	if err != nil {
		return 0, fmt.Errorf("store: start typing: %w", err)
	}
	if started {
		return 0, nil
	}
	wait := interval // a concurrent start we could not see: it is brand new
	if waitUS != nil {
		wait = time.Duration(*waitUS) * time.Microsecond
	}
	// Refused means "wait": never answer a zero or negative wait, nor one
	// beyond the interval.
	return min(max(wait, time.Millisecond), interval), nil
}
