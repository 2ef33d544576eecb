-- chatwire schema, version 11: a message pays only for the inbox work it needs.
--
-- Version 9 added a second AFTER INSERT trigger on messages,
-- chatwire_messages_listed, which ran every one of its statements for every
-- message: the room upsert and the room clear for a 1:1 message and, worst,
-- the UPDATE that marks what the sender received read, even when nothing was
-- unread. An UPDATE statement fires the statement-level AFTER UPDATE triggers
-- on messages (messages_read, messages_changed) whether or not it changes a
-- row, with their transition tables and their own six statements. Measured
-- with pgbench on the send statement, that was about 0.25 ms of Postgres CPU
-- per message of the 0.8 ms in all.
--
-- Now one trigger function does both jobs, and runs each part only for the
-- messages that need it:
--   * one statement writes the events (version 9's, unchanged) and reads
--     what kinds of message were inserted;
--   * the chat upsert runs only for 1:1 messages; its RETURNING tells whether
--     a sender has anything unread in the conversation;
--   * the mark-read UPDATE runs only then (a reply to a message the sender
--     has not marked read: the condition version 9's join had);
--   * the room upsert and clear run only for room messages.
-- What it writes, and in what order, is versions 7 and 9's exactly: first
-- contacts and events, then the conversation rows in (user_id, id) order,
-- then messages with SKIP LOCKED (version 9 says why). SECURITY DEFINER and
-- the search_path of 003_lock_down.sql are repeated: CREATE OR REPLACE
-- resets them.

DROP TRIGGER messages_listed ON messages;
DROP FUNCTION chatwire_messages_listed();

CREATE OR REPLACE FUNCTION chatwire_messages_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  importing boolean := coalesce(current_setting('chatwire.importing', true) = 'on', false);
  has_chat boolean;
  has_room boolean;
  sender_has_unread boolean := false;
BEGIN
  -- Version 9's events statement; the SELECT around it (the INSERT runs in
  -- full whether or not anything reads it) says what was inserted.
  WITH new_pairs AS (
    INSERT INTO contacts (user_id, contact_id)
    SELECT DISTINCT m.sender_id, m.receiver_id
    FROM inserted m
    WHERE m.receiver_id IS NOT NULL AND m.sender_id <> m.receiver_id
    ON CONFLICT DO NOTHING
    RETURNING user_id, contact_id
  ), written AS (
    INSERT INTO events (channel, event, data, recipients)
    SELECT e.channel, e.event, e.data, e.recipients
    FROM (
      SELECT 0 AS kind, NULL::timestamptz AS at, p.contact_id AS k1, p.user_id AS k2,
             chatwire_user_channel(p.contact_id) AS channel, 'user-status-change' AS event,
             jsonb_build_object('user_id', u.id, 'online', u.online,
                                'last_active_at', chatwire_time(u.last_active_at)) AS data,
             ARRAY[p.contact_id] AS recipients
      FROM new_pairs p
      JOIN users u ON u.id = p.user_id
      WHERE u.online AND NOT u.presence_hidden
      UNION ALL
      SELECT 1, m.created_at, m.id::text, '', ch.channel, 'new-message',
             chatwire_message_json(m),
             CASE WHEN m.room_id IS NULL THEN ARRAY[m.sender_id, m.receiver_id] END
      FROM inserted m
      CROSS JOIN LATERAL (SELECT CASE WHEN m.room_id IS NULL
                                      THEN chatwire_chat_channel(m.sender_id, m.receiver_id)
                                      ELSE chatwire_room_channel(m.room_id) END AS channel) AS ch
      UNION ALL
      SELECT 2, m.created_at, m.id::text, '', chatwire_user_channel(m.receiver_id), 'message-notification',
             jsonb_build_object(
               'message_id', m.id,
               'channel', ch.channel,
               'sender', jsonb_build_object('id', m.sender_id, 'name', coalesce(s.name, m.sender_id)),
               'preview', left(CASE WHEN m.body = '' THEN coalesce(m.attachment ->> 'name', '') ELSE m.body END, 100)),
             ARRAY[m.receiver_id]
      FROM inserted m
      CROSS JOIN LATERAL (SELECT chatwire_chat_channel(m.sender_id, m.receiver_id) AS channel) AS ch
      LEFT JOIN users s ON s.id = m.sender_id
      LEFT JOIN users r ON r.id = m.receiver_id
      WHERE m.receiver_id IS NOT NULL
        AND m.sender_id <> m.receiver_id
        AND coalesce(r.notifications_enabled, true)
        AND NOT (ch.channel = ANY (coalesce(r.muted_channels, '{}')))
    ) e
    WHERE NOT importing
    ORDER BY e.kind, e.at, e.k1, e.k2
  )
  SELECT coalesce(bool_or(receiver_id IS NOT NULL AND sender_id <> receiver_id), false),
         coalesce(bool_or(room_id IS NOT NULL), false)
  INTO has_chat, has_room
  FROM inserted;

  -- The conversation list runs in imports too (the list must show imported
  -- chats), but an import neither marks anything read nor writes events.
  IF has_chat THEN
    -- Chats: one row per user and conversation (a statement may insert several
    -- messages of one chat), in key order. A sender's row comes back with the
    -- count after the upsert, which is what the mark-read below depends on.
    WITH listed AS (
      INSERT INTO conversations AS c (user_id, id, other_id, last_message_id, updated_at, unread_count)
      SELECT s.user_id, 'chat:' || s.other_id, s.other_id, s.last_id, s.last_at, s.unread
      FROM (
        SELECT side.user_id, side.other_id,
               (array_agg(m.id ORDER BY m.created_at DESC, m.id DESC))[1] AS last_id,
               max(m.created_at) AS last_at,
               count(*) FILTER (WHERE side.incoming AND m.read_at IS NULL) AS unread
        FROM inserted m
        CROSS JOIN LATERAL (VALUES (m.sender_id, m.receiver_id, false),
                                   (m.receiver_id, m.sender_id, true)) AS side (user_id, other_id, incoming)
        WHERE m.receiver_id IS NOT NULL AND m.sender_id <> m.receiver_id
        GROUP BY side.user_id, side.other_id
      ) s
      ORDER BY s.user_id, 'chat:' || s.other_id
      ON CONFLICT (user_id, id) DO UPDATE SET
        last_message_id = CASE WHEN c.last_message_id IS NULL OR EXCLUDED.updated_at >= c.updated_at
                               THEN EXCLUDED.last_message_id ELSE c.last_message_id END,
        updated_at = greatest(c.updated_at, EXCLUDED.updated_at),
        unread_count = c.unread_count + EXCLUDED.unread_count
      RETURNING c.user_id, c.other_id, c.unread_count
    )
    SELECT coalesce(bool_or(l.unread_count > 0), false) INTO sender_has_unread
    FROM listed l
    WHERE EXISTS (SELECT 1 FROM inserted m WHERE m.sender_id = l.user_id AND m.receiver_id = l.other_id);
  END IF;

  IF has_room THEN
    -- Rooms: every member's row; the sender's read mark moves to the message.
    INSERT INTO conversations AS c (user_id, id, room_id, last_message_id, updated_at, unread_count, last_read_at)
    SELECT rm.user_id, 'room:' || p.room_id, p.room_id, p.last_id, p.last_at,
           p.n - coalesce(own.n, 0), own.last_at
    FROM (
      SELECT room_id, (array_agg(id ORDER BY created_at DESC, id DESC))[1] AS last_id,
             max(created_at) AS last_at, count(*) AS n
      FROM inserted WHERE room_id IS NOT NULL GROUP BY room_id
    ) p
    JOIN room_members rm ON rm.room_id = p.room_id
    LEFT JOIN (
      SELECT room_id, sender_id, count(*) AS n, max(created_at) AS last_at
      FROM inserted WHERE room_id IS NOT NULL GROUP BY room_id, sender_id
    ) own ON own.room_id = p.room_id AND own.sender_id = rm.user_id
    ORDER BY rm.user_id, 'room:' || p.room_id
    ON CONFLICT (user_id, id) DO UPDATE SET
      last_message_id = CASE WHEN c.last_message_id IS NULL OR EXCLUDED.updated_at >= c.updated_at
                             THEN EXCLUDED.last_message_id ELSE c.last_message_id END,
      updated_at = greatest(c.updated_at, EXCLUDED.updated_at),
      unread_count = c.unread_count + EXCLUDED.unread_count,
      last_read_at = CASE WHEN EXCLUDED.last_read_at IS NULL THEN c.last_read_at
                          ELSE greatest(c.last_read_at, EXCLUDED.last_read_at) END;
  END IF;

  IF importing THEN
    RETURN NULL;
  END IF;

  IF has_room THEN
    -- Sending marks the room read for the sender; only a count that changes
    -- is news for the sender's other devices.
    WITH cleared AS (
      UPDATE conversations c SET unread_count = 0
      FROM (SELECT DISTINCT sender_id, room_id FROM inserted WHERE room_id IS NOT NULL) s
      WHERE c.user_id = s.sender_id AND c.id = 'room:' || s.room_id AND c.unread_count > 0
      RETURNING c.user_id, c.id, c.last_read_at
    )
    INSERT INTO events (channel, event, data, recipients)
    SELECT chatwire_user_channel(user_id), 'conversation-read',
           jsonb_build_object('conversation_id', id, 'read_at', chatwire_time(last_read_at), 'unread_count', 0),
           ARRAY[user_id]
    FROM cleared ORDER BY user_id, id;
  END IF;

  IF sender_has_unread THEN
    -- Sending into a chat marks what the sender received there read, through
    -- read_at like any read receipt (so message-read and conversation-read
    -- follow from the update triggers). Version 9 says why SKIP LOCKED.
    UPDATE messages SET read_at = now()
    WHERE id IN (
      SELECT u.id
      FROM (SELECT DISTINCT sender_id, receiver_id FROM inserted
            WHERE receiver_id IS NOT NULL AND sender_id <> receiver_id) p
      JOIN conversations c ON c.user_id = p.sender_id AND c.id = 'chat:' || p.receiver_id AND c.unread_count > 0
      JOIN messages u ON u.receiver_id = p.sender_id AND u.sender_id = p.receiver_id
                     AND u.room_id IS NULL AND u.read_at IS NULL
      ORDER BY u.id
      FOR UPDATE OF u SKIP LOCKED);
  END IF;
  RETURN NULL;
END
$$;
