-- chatwire schema, version 4: presence privacy.
--
-- A user's online status is visible only to
--   * users who share a room with them, and
--   * users they have written to in a 1:1 chat,
-- and to nobody when they hide it (users.presence_hidden). So when alice
-- writes to bob, bob may see alice; alice sees bob only once bob writes back
-- or they share a room. One unsolicited message no longer subscribes its
-- sender to the receiver's status.
--
-- contacts now holds exactly the second rule, one direction per row:
-- (user_id, contact_id) means user_id has written to contact_id, so
-- contact_id may see user_id. The message trigger adds the row with INSERT
-- ... ON CONFLICT DO NOTHING, which finds the existing row by the primary
-- key and writes nothing for every message after a pair's first.

ALTER TABLE users ADD COLUMN presence_hidden boolean NOT NULL DEFAULT false;

-- Until now every 1:1 message added both directions; keep only the pairs
-- where user_id really wrote to contact_id. One index probe per contact row
-- (messages_chat_history's expressions).
DELETE FROM contacts c
WHERE NOT EXISTS (
  SELECT 1 FROM messages m
  WHERE m.room_id IS NULL
    AND least(m.sender_id, m.receiver_id) = least(c.user_id, c.contact_id)
    AND greatest(m.sender_id, m.receiver_id) = greatest(c.user_id, c.contact_id)
    AND m.sender_id = c.user_id);

-- chatwire_presence_audience lists who may see target's status (the rule
-- above, leaving out presence_hidden, which callers check on target's row).
CREATE FUNCTION chatwire_presence_audience(target text) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
  SELECT contact_id FROM contacts WHERE user_id = target
  UNION
  SELECT other.user_id FROM room_members mine
  JOIN room_members other ON other.room_id = mine.room_id
  WHERE mine.user_id = target AND other.user_id <> target
$$;

-- chatwire_sees reports whether viewer may see target's status: always their
-- own; else target has not hidden it and viewer is in its audience.
CREATE FUNCTION chatwire_sees(viewer text, target text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT viewer = target OR (
    NOT coalesce((SELECT presence_hidden FROM users WHERE id = target), false)
    AND (EXISTS (SELECT 1 FROM contacts WHERE user_id = target AND contact_id = viewer)
         OR EXISTS (SELECT 1 FROM room_members mine
                    JOIN room_members other ON other.room_id = mine.room_id
                    WHERE mine.user_id = target AND other.user_id = viewer)))
$$;

-- The message trigger of 001_init.sql, with contacts written one way and a
-- user-status-change sent when a pair becomes visible: the first message
-- from a sender to a receiver tells the receiver the sender's status at once,
-- if the sender is online and has not hidden it (an offline user already
-- looks offline). SECURITY DEFINER and the search_path of 003_lock_down.sql
-- are repeated: CREATE OR REPLACE resets them.
CREATE OR REPLACE FUNCTION chatwire_messages_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  -- An import writes history, not news: contacts only, no events.
  IF current_setting('chatwire.importing', true) = 'on' THEN
    INSERT INTO contacts (user_id, contact_id)
    SELECT DISTINCT m.sender_id, m.receiver_id
    FROM inserted m
    WHERE m.receiver_id IS NOT NULL AND m.sender_id <> m.receiver_id
    ON CONFLICT DO NOTHING;
    RETURN NULL;
  END IF;

  WITH new_pairs AS (
    INSERT INTO contacts (user_id, contact_id)
    SELECT DISTINCT m.sender_id, m.receiver_id
    FROM inserted m
    WHERE m.receiver_id IS NOT NULL AND m.sender_id <> m.receiver_id
    ON CONFLICT DO NOTHING
    RETURNING user_id, contact_id
  )
  INSERT INTO events (channel, event, data, recipients)
  SELECT chatwire_user_channel(p.contact_id), 'user-status-change',
         jsonb_build_object('user_id', u.id, 'online', u.online,
                            'last_active_at', chatwire_time(u.last_active_at)),
         ARRAY[p.contact_id]
  FROM new_pairs p
  JOIN users u ON u.id = p.user_id
  WHERE u.online AND NOT u.presence_hidden
  ORDER BY p.contact_id, p.user_id;

  INSERT INTO events (channel, event, data, recipients, dedupe_key)
  SELECT ch.channel, 'new-message',
         jsonb_build_object(
           'id', m.id, 'client_id', m.client_id, 'channel', ch.channel,
           'sender_id', m.sender_id, 'receiver_id', m.receiver_id, 'room_id', m.room_id,
           'body', m.body, 'attachment', m.attachment,
           'created_at', chatwire_time(m.created_at), 'read_at', chatwire_time(m.read_at)),
         CASE WHEN m.room_id IS NULL THEN ARRAY[m.sender_id, m.receiver_id] END,
         'new-message:' || m.id
  FROM inserted m
  CROSS JOIN LATERAL (SELECT CASE WHEN m.room_id IS NULL
                                  THEN chatwire_chat_channel(m.sender_id, m.receiver_id)
                                  ELSE chatwire_room_channel(m.room_id) END AS channel) AS ch
  ORDER BY m.created_at, m.id
  ON CONFLICT (dedupe_key) DO NOTHING;

  INSERT INTO events (channel, event, data, recipients, dedupe_key)
  SELECT chatwire_user_channel(m.receiver_id), 'message-notification',
         jsonb_build_object(
           'message_id', m.id,
           'channel', chatwire_chat_channel(m.sender_id, m.receiver_id),
           'sender', jsonb_build_object('id', m.sender_id, 'name', coalesce(s.name, m.sender_id)),
           'preview', left(CASE WHEN m.body = '' THEN coalesce(m.attachment ->> 'name', '') ELSE m.body END, 100)),
         ARRAY[m.receiver_id],
         'message-notification:' || m.id
  FROM inserted m
  LEFT JOIN users s ON s.id = m.sender_id
  LEFT JOIN users r ON r.id = m.receiver_id
  WHERE m.receiver_id IS NOT NULL
    AND m.sender_id <> m.receiver_id
    AND coalesce(r.notifications_enabled, true)
    AND NOT (chatwire_chat_channel(m.sender_id, m.receiver_id) = ANY (coalesce(r.muted_channels, '{}')))
  ORDER BY m.created_at, m.id
  ON CONFLICT (dedupe_key) DO NOTHING;
  RETURN NULL;
END
$$;

-- The join trigger of 001_init.sql, plus: sharing a room makes the joiner and
-- every other member visible to each other, so each learns the other's
-- status at once when that one is online and not hidden.
CREATE OR REPLACE FUNCTION chatwire_members_joined() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO events (channel, event, data, dedupe_key)
  SELECT chatwire_room_channel(j.room_id), 'user-joined',
         jsonb_build_object('user_id', j.user_id, 'name', coalesce(u.name, j.user_id),
                            'joined_at', chatwire_time(j.joined_at)),
         'user-joined:' || chatwire_enc(j.room_id) || ':' || chatwire_enc(j.user_id) || ':' || chatwire_time(j.joined_at)
  FROM joined j
  LEFT JOIN users u ON u.id = j.user_id
  ON CONFLICT (dedupe_key) DO NOTHING;

  INSERT INTO events (channel, event, data, recipients)
  SELECT chatwire_user_channel(pair.viewer), 'user-status-change',
         jsonb_build_object('user_id', t.id, 'online', t.online,
                            'last_active_at', chatwire_time(t.last_active_at)),
         ARRAY[pair.viewer]
  FROM (SELECT j.user_id AS viewer, m.user_id AS target
        FROM joined j JOIN room_members m ON m.room_id = j.room_id AND m.user_id <> j.user_id
        UNION
        SELECT m.user_id, j.user_id
        FROM joined j JOIN room_members m ON m.room_id = j.room_id AND m.user_id <> j.user_id) AS pair
  JOIN users t ON t.id = pair.target
  WHERE t.online AND NOT t.presence_hidden
  ORDER BY pair.viewer, t.id;
  RETURN NULL;
END
$$;
