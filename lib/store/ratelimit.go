package store

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/chatwire/chatwire/lib/chat"
)

// takeSendTokenSQL takes one send from the user's bucket in one statement:
// the upsert locks the user's row and computes from its latest committed
// version, so concurrent sends of one user, on any instance, queue on the
// row and each sees what the previous one left. A new user starts with a
// full bucket less this send. $2 is the capacity, $3 the refill period in
// microseconds.
const takeSendTokenSQL = `INSERT INTO send_rate_limit AS r (user_id, tokens, updated_at, allowed)
VALUES ($1::text, $2::float8 - 1, clock_timestamp(), true)
ON CONFLICT (user_id) DO UPDATE SET
  tokens = chatwire_send_tokens(r.tokens, r.updated_at, EXCLUDED.updated_at, $2::float8, $3::float8)
         - CASE WHEN chatwire_send_tokens(r.tokens, r.updated_at, EXCLUDED.updated_at, $2::float8, $3::float8) >= 1 THEN 1 ELSE 0 END,
  updated_at = GREATEST(r.updated_at, EXCLUDED.updated_at),
  allowed = chatwire_send_tokens(r.tokens, r.updated_at, EXCLUDED.updated_at, $2::float8, $3::float8) >= 1
RETURNING allowed, tokens`

// TakeSendToken takes one send from the user's bucket. When the bucket is
// empty it takes nothing and returns how long until a send is available
// (> 0). SendMessage runs the same statement inside its own; this one
// stands alone.
func (db *DB) TakeSendToken(ctx context.Context, userID string, limit chat.RateLimit) (time.Duration, error) {
	if limit.Count <= 0 || limit.Per <= 0 {
		return 0, nil
	}
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	var (
		allowed bool
		tokens  float64
	)
	err := db.pool.QueryRow(ctx, takeSendTokenSQL, userID, float64(limit.Count), float64(limit.Per.Microseconds())).Scan(&allowed, &tokens)
	if err != nil {
		return 0, fmt.Errorf("store: take send token: %w", err)
	}
	return refillWait(allowed, tokens, limit), nil
}

// refillWait is how long until a refused take would succeed: one token
// refills in Per/Count, and the bucket holds tokens < 1 of it. 0 when allowed.
func refillWait(allowed bool, tokens float64, limit chat.RateLimit) time.Duration {
	if allowed {
		return 0
	}
	wait := time.Duration(math.Ceil((1 - tokens) * float64(limit.Per) / float64(limit.Count)))
	return min(max(wait, time.Millisecond), limit.Per)
}

// TakeActionToken takes one token from the user's bucket for action
// (chatwire_take_action, schema 5); when it is empty it takes nothing and
// returns how long until one is available (> 0).
func (db *DB) TakeActionToken(ctx context.Context, action, userID string, limit chat.RateLimit) (time.Duration, error) {
	if !limit.Enabled() {
		return 0, nil
	}
	if err := checkText("user", userID); err != nil {
		return 0, err
	}
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	var (
		allowed bool
		tokens  float64
	)
	err := db.pool.QueryRow(ctx, `SELECT allowed, tokens FROM chatwire_take_action($1::text, $2::text, $3::float8, $4::float8)`,
		action, userID, float64(limit.Count), float64(limit.Per.Microseconds())).Scan(&allowed, &tokens)
	if err != nil {
		return 0, fmt.Errorf("store: take %s token: %w", action, err)
	}
	return refillWait(allowed, tokens, limit), nil
}
