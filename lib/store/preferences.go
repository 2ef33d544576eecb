package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/chat"
)

// The preferences live on the users row because the message trigger reads
// them there when it decides whether to write message-notification.
const (
	preferencesSQL = `SELECT notifications_enabled, muted_channels FROM users WHERE id = $1::text`

	// setPreferencesSQL creates the row of a user never seen and records the
	// display name on the way, like every other write of the user.
	setPreferencesSQL = `INSERT INTO users (id, name, notifications_enabled, muted_channels)
VALUES ($1::text, $2::text, $3::boolean, $4::text[])
ON CONFLICT (id) DO UPDATE SET
  name = coalesce(EXCLUDED.name, users.name),
  notifications_enabled = EXCLUDED.notifications_enabled,
  muted_channels = EXCLUDED.muted_channels
RETURNING notifications_enabled, muted_channels`
)

// Preferences returns the user's notification preferences; a user without a
// row has the column defaults: enabled, nothing muted.
func (db *DB) Preferences(ctx context.Context, userID string) (chat.Preferences, error) {
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	var p chat.Preferences
	err := db.pool.QueryRow(ctx, preferencesSQL, userID).Scan(&p.Enabled, &p.MutedChannels)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return chat.Preferences{Enabled: true, MutedChannels: []string{}}, nil
	case err != nil:
		return chat.Preferences{}, fmt.Errorf("store: preferences: %w", err)
	}
	return p, nil
}

// SetPreferences replaces the user's notification preferences in one
// statement and returns what was stored.
func (db *DB) SetPreferences(ctx context.Context, user chat.User, p chat.Preferences) (chat.Preferences, error) {
	muted := p.MutedChannels
	if muted == nil {
		muted = []string{} // NOT NULL column: none muted is the empty array
	}
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	var stored chat.Preferences
	err := db.pool.QueryRow(ctx, setPreferencesSQL, user.ID, nullable(user.Name), p.Enabled, muted).
		Scan(&stored.Enabled, &stored.MutedChannels)
	if err != nil {
		return chat.Preferences{}, fmt.Errorf("store: set preferences: %w", err)
	}
	return stored, nil
}
