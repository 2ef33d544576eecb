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
	preferencesSQL = `SELECT notifications_enabled, muted_channels, presence_hidden FROM users WHERE id = $1::text`

	// setPreferencesSQL creates the row of a user never seen and records the
	// display name on the way, like every other write of the user.
	// presence_hidden changes only when $5 is not NULL; when it does change,
	// everyone who could see the user is told in the same statement: hidden
	// reads as offline and never active, shown as the current status.
	setPreferencesSQL = `WITH old AS (
  SELECT presence_hidden FROM users WHERE id = $1::text FOR UPDATE
), stored AS (
  INSERT INTO users (id, name, notifications_enabled, muted_channels, presence_hidden)
  -- Joining old makes it run (and lock) before the upsert changes the row.
  SELECT $1::text, $2::text, $3::boolean, $4::text[], coalesce($5::boolean, false)
  FROM (VALUES (1)) AS one LEFT JOIN old ON true
  ON CONFLICT (id) DO UPDATE SET
    name = coalesce(EXCLUDED.name, users.name),
    notifications_enabled = EXCLUDED.notifications_enabled,
    muted_channels = EXCLUDED.muted_channels,
    presence_hidden = coalesce($5::boolean, users.presence_hidden)
  RETURNING notifications_enabled, muted_channels, presence_hidden, online, last_active_at
), told AS (
  INSERT INTO events (channel, event, data, recipients)
  SELECT chatwire_user_channel(a), 'user-status-change',
         jsonb_build_object('user_id', $1::text, 'online', s.online AND NOT s.presence_hidden,
                            'last_active_at', CASE WHEN NOT s.presence_hidden THEN chatwire_time(s.last_active_at) END),
         ARRAY[a]
  FROM stored s CROSS JOIN chatwire_presence_audience($1::text) a
  WHERE s.presence_hidden <> coalesce((SELECT presence_hidden FROM old), false)
  ORDER BY a
)
SELECT notifications_enabled, muted_channels, presence_hidden FROM stored`
)

// Preferences returns the user's notification preferences; a user without a
// row has the column defaults: enabled, nothing muted.
func (db *DB) Preferences(ctx context.Context, userID string) (chat.Preferences, error) {
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	var p chat.Preferences
	err := db.pool.QueryRow(ctx, preferencesSQL, userID).Scan(&p.Enabled, &p.MutedChannels, &p.PresenceHidden)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return chat.Preferences{Enabled: true, MutedChannels: []string{}, PresenceHidden: new(bool)}, nil
	case err != nil:
		return chat.Preferences{}, fmt.Errorf("store: preferences: %w", err)
	}
	return p, nil
}

// SetPreferences replaces the user's preferences in one transaction (one
// batch, one round trip) and returns what was stored and the events written.
func (db *DB) SetPreferences(ctx context.Context, user chat.User, p chat.Preferences) (saved chat.SavedPreferences, err error) {
	muted := p.MutedChannels
	if muted == nil {
		muted = []string{} // NOT NULL column: none muted is the empty array
	}
	b := &pgx.Batch{}
	b.Queue(setPreferencesSQL, user.ID, nullable(user.Name), p.Enabled, muted, p.PresenceHidden)
	b.Queue(ownEventsSQL)
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	br := db.pool.SendBatch(ctx, b)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("store: set preferences: %w", cerr)
		}
	}()
	stored := &saved.Preferences
	if err := br.QueryRow().Scan(&stored.Enabled, &stored.MutedChannels, &stored.PresenceHidden); err != nil {
		return chat.SavedPreferences{}, fmt.Errorf("store: set preferences: %w", err)
	}
	if saved.Events, err = collectEvents(br.Query()); err != nil {
		return chat.SavedPreferences{}, fmt.Errorf("store: set preferences: read events: %w", err)
	}
	return saved, nil
}
