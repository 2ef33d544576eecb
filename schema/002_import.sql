-- chatwire schema: imports that stay quiet.
--
-- Importing years of messages from a legacy table (migration/*.sql) must not
-- write a new-message event and a message-notification for every old row:
-- the outbox would push them all to Pusher, and polling clients would replay
-- them. An import therefore runs
--
--   SET LOCAL chatwire.importing = 'on';
--
-- in its transaction, and the two message triggers return early when they see
-- it. SET LOCAL ends with the transaction, so a session (or a pooled server
-- connection) never stays in import mode: every other insert writes its events
-- exactly as before. A custom setting needs no privilege, unlike
-- session_replication_role (superuser only, and it would also skip the
-- contacts the import still needs).
--
-- current_setting(..., true) returns NULL while the setting was never set in
-- the session, and '' after a SET LOCAL has ended; only 'on' means importing.
--
-- The functions below are those of 001_init.sql with only the marked IF
-- added; migration/migration_test.go checks that they stay so.

-- Events for new messages, unless importing (see above).
CREATE OR REPLACE FUNCTION chatwire_messages_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO contacts (user_id, contact_id)
  SELECT DISTINCT pair.u, pair.c
  FROM inserted m
  CROSS JOIN LATERAL (VALUES (m.sender_id, m.receiver_id), (m.receiver_id, m.sender_id)) AS pair (u, c)
  WHERE m.receiver_id IS NOT NULL AND m.sender_id <> m.receiver_id
  ON CONFLICT DO NOTHING;

  -- An import writes history, not news: no new-message or message-notification
  -- events (and so no pushes) for it. contacts above is still filled, because
  -- presence needs it for old conversations as much as for new ones.
  IF current_setting('chatwire.importing', true) = 'on' THEN
    RETURN NULL;
  END IF;

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

-- One message-read event per chat and statement, unless importing.
CREATE OR REPLACE FUNCTION chatwire_messages_read() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- An import that marks old messages read tells no one.
  IF current_setting('chatwire.importing', true) = 'on' THEN
    RETURN NULL;
  END IF;

  INSERT INTO events (channel, event, data, recipients)
  SELECT chatwire_chat_channel(n.sender_id, n.receiver_id), 'message-read',
         jsonb_build_object('message_ids', jsonb_agg(n.id ORDER BY n.created_at, n.id),
                            'reader_id', n.receiver_id,
                            'read_at', chatwire_time(max(n.read_at))),
         ARRAY[n.sender_id, n.receiver_id]
  FROM updated_new n
  JOIN updated_old o ON o.id = n.id
  WHERE o.read_at IS NULL AND n.read_at IS NOT NULL AND n.receiver_id IS NOT NULL
  GROUP BY n.sender_id, n.receiver_id;
  RETURN NULL;
END
$$;
