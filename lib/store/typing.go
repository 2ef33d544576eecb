package store

import (
	"context"
	"fmt"
	"time"

	"github.com/chatwire/chatwire/lib/chat"
)

// StartTyping decides a typing start of the user in channel in one statement
// (chatwire_start_typing, schema 5): throttled when the user started there
// less than interval ago, limited when the user's typing bucket across all
// chats is empty, else recorded and to be sent. Only a start to be sent is
// recorded, in Postgres, so every function instance shares the throttle.
func (db *DB) StartTyping(ctx context.Context, userID, channel string, interval time.Duration, limit chat.RateLimit) (chat.TypingStart, error) {
	if err := checkText("user_id", userID, "channel", channel); err != nil {
		return chat.TypingStart{}, err
	}
	count, perUS := 0.0, 0.0
	if limit.Enabled() {
		count, perUS = float64(limit.Count), float64(limit.Per.Microseconds())
	}
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	var (
		start  chat.TypingStart
		waitUS *int64
	)
	err := db.pool.QueryRow(ctx, `SELECT sent, limited, wait_us FROM chatwire_start_typing($1::text, $2::text, $3::bigint, $4::float8, $5::float8)`,
		userID, channel, interval.Microseconds(), count, perUS).Scan(&start.Sent, &start.Limited, &waitUS)
	if err != nil {
		return chat.TypingStart{}, fmt.Errorf("store: start typing: %w", err)
	}
	if start.Sent {
		return start, nil
	}
	ceiling := interval
	if start.Limited {
		ceiling = limit.Per
	}
	start.Wait = ceiling
	if waitUS != nil {
		start.Wait = time.Duration(*waitUS) * time.Microsecond
	}
	// Refused means "wait": never answer a zero or negative wait, nor one
	// beyond what a refill or the interval can take.
	start.Wait = min(max(start.Wait, time.Millisecond), ceiling)
	return start, nil
}

// StopTyping records a typing stop of the user in channel and reports
// whether to send it: only after a start there that was sent and not
// stopped yet (chatwire_stop_typing, schema 5).
func (db *DB) StopTyping(ctx context.Context, userID, channel string) (bool, error) {
	if err := checkText("user_id", userID, "channel", channel); err != nil {
		return false, err
	}
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	var send bool
	if err := db.pool.QueryRow(ctx, `SELECT chatwire_stop_typing($1::text, $2::text)`, userID, channel).Scan(&send); err != nil {
		return false, fmt.Errorf("store: stop typing: %w", err)
	}
	return send, nil
}
