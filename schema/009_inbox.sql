-- chatwire schema, version 9: the inbox.
--
-- Messages become versioned (edits, tombstones, reactions) and every user gets
-- a list of conversations with unread counts. As in 001, every fact a client
-- is told about is an events row written in the same transaction as the change,
-- by triggers, so a legacy writer that inserts messages, marks them read or
-- changes them directly produces the same events and the same list.
--
-- The conversation list is one row per user and conversation
-- (`conversations`), kept by triggers: a page is one index range scan over
-- (user_id, updated_at DESC, id DESC) joined to the few rows it shows, so it
-- costs the same whether the user has 10 or 10,000 conversations and however
-- many messages are stored. Counting unread messages or finding the last one
-- at read time would instead grow with the history. The price is paid on
-- write: a message updates its conversation row for each side of a chat, and
-- for each member of a room (rooms are bounded in size). Rows are always
-- written in (user_id, id) order, so concurrent senders queue instead of
-- deadlocking. A read locks messages, then (in the update trigger) its
-- conversation row; a send locks conversation rows, then marks what the
-- sender received read while skipping messages a concurrent read holds, so
-- a send never waits for a message while holding a conversation row.
--
-- Unread counts: in a chat, messages to the user with read_at unset; in a
-- room, others' messages after the user's read mark (last_read_at), which
-- starts at the join. A tombstone still counts until read: it stays in the
-- timeline. Sending marks the conversation read for the sender.

ALTER TABLE messages
  -- 1 when created, +1 per edit, delete or change of reactions (not reads).
  ADD COLUMN version    integer NOT NULL DEFAULT 1,
  ADD COLUMN edited_at  timestamptz,
  ADD COLUMN deleted_at timestamptz,
  -- The summary every Message carries, [{"emoji","count","users":[<= 10]}],
  -- kept by the message_reactions triggers so history and the list read it
  -- with the row instead of aggregating reactions per message.
  ADD COLUMN reactions  jsonb NOT NULL DEFAULT '[]';

CREATE TABLE message_reactions (
  message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  emoji      text NOT NULL,
  user_id    text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- One of each emoji per user and message: a repeat conflicts and does nothing.
  PRIMARY KEY (message_id, emoji, user_id)
);

CREATE TABLE conversations (
  user_id         text NOT NULL,
  -- As the API names it: 'chat:' || the other user's id, or 'room:' || room id.
  id              text NOT NULL,
  other_id        text,
  room_id         text,
  last_message_id uuid,
  -- The last message's time; a room before any message: the join.
  updated_at      timestamptz NOT NULL,
  unread_count    integer NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
  -- Chats: the newest read_at the user set; rooms: the read mark.
  last_read_at    timestamptz,
  PRIMARY KEY (user_id, id),
  CONSTRAINT conversations_one_kind CHECK ((other_id IS NULL) <> (room_id IS NULL))
);
CREATE INDEX conversations_recent ON conversations (user_id, updated_at DESC, id DESC);

-- Only chatwire (the owner) reads or writes them (003_lock_down.sql).
SELECT chatwire_lock_down('{message_reactions, conversations}');

-- The channel of a message, as new-message names it.
CREATE FUNCTION chatwire_message_channel(sender_id text, receiver_id text, room_id text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN room_id IS NULL THEN chatwire_chat_channel(sender_id, receiver_id)
              ELSE chatwire_room_channel(room_id) END
$$;

-- The API's Message object (lib/chat.Message.MarshalJSON writes the same).
CREATE FUNCTION chatwire_message_json(m messages) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT jsonb_build_object(
    'id', m.id, 'client_id', m.client_id,
    'channel', chatwire_message_channel(m.sender_id, m.receiver_id, m.room_id),
    'sender_id', m.sender_id, 'receiver_id', m.receiver_id, 'room_id', m.room_id,
    'body', m.body, 'attachment', m.attachment,
    'created_at', chatwire_time(m.created_at), 'read_at', chatwire_time(m.read_at),
    'version', m.version, 'edited_at', chatwire_time(m.edited_at),
    'deleted_at', chatwire_time(m.deleted_at), 'reactions', m.reactions)
$$;

-- new-message carries the whole Message, version, edited_at, deleted_at and
-- reactions included, like history and message-updated: 007's function with
-- chatwire_message_json in place of its own list of fields, and 003's
-- attributes (CREATE OR REPLACE resets them).
CREATE OR REPLACE FUNCTION chatwire_messages_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  WITH new_pairs AS (
    INSERT INTO contacts (user_id, contact_id)
    SELECT DISTINCT m.sender_id, m.receiver_id
    FROM inserted m
    WHERE m.receiver_id IS NOT NULL AND m.sender_id <> m.receiver_id
    ON CONFLICT DO NOTHING
    RETURNING user_id, contact_id
  )
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
  WHERE current_setting('chatwire.importing', true) IS DISTINCT FROM 'on'
  ORDER BY e.kind, e.at, e.k1, e.k2;
  RETURN NULL;
END
$$;

-- Versions and tombstones are kept here, for every writer: a change of body,
-- attachment, deletion or reactions bumps the version unless the writer set
-- it; a tombstone has no body or attachment and cannot be revived; an edit
-- of the body sets edited_at.
CREATE FUNCTION chatwire_messages_version() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF OLD.deleted_at IS NOT NULL THEN
    NEW.deleted_at := OLD.deleted_at;
    NEW.edited_at := OLD.edited_at;
    NEW.body := '';
    NEW.attachment := NULL;
  ELSIF NEW.deleted_at IS NOT NULL THEN
    NEW.body := '';
    NEW.attachment := NULL;
  ELSIF (NEW.body IS DISTINCT FROM OLD.body OR NEW.attachment IS DISTINCT FROM OLD.attachment)
        AND NEW.edited_at IS NOT DISTINCT FROM OLD.edited_at THEN
    NEW.edited_at := now();
  END IF;
  IF NEW.version = OLD.version
     AND (NEW.body IS DISTINCT FROM OLD.body OR NEW.attachment IS DISTINCT FROM OLD.attachment
          OR NEW.deleted_at IS DISTINCT FROM OLD.deleted_at OR NEW.reactions IS DISTINCT FROM OLD.reactions) THEN
    NEW.version := OLD.version + 1;
  END IF;
  RETURN NEW;
END
$$;

-- WHEN keeps read receipts (the most common update) from calling it at all.
CREATE TRIGGER messages_version BEFORE UPDATE ON messages
  FOR EACH ROW
  WHEN (OLD.body IS DISTINCT FROM NEW.body OR OLD.attachment IS DISTINCT FROM NEW.attachment
        OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at OR OLD.reactions IS DISTINCT FROM NEW.reactions
        OR OLD.edited_at IS DISTINCT FROM NEW.edited_at)
  EXECUTE FUNCTION chatwire_messages_version();

-- New messages in the conversation list: each side of a chat, each member of
-- a room. Runs in imports too (the list must show imported chats), but an
-- import neither marks anything read nor writes events.
CREATE FUNCTION chatwire_messages_listed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  importing boolean := coalesce(current_setting('chatwire.importing', true) = 'on', false);
BEGIN
  -- Chats: one row per user and conversation (a statement may insert several
  -- messages of one chat), in key order.
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
    unread_count = c.unread_count + EXCLUDED.unread_count;

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

  IF importing THEN
    RETURN NULL;
  END IF;

  -- Sending marks the room read for the sender; only a count that changes is
  -- news for the sender's other devices, so a sender with nothing unread (the
  -- usual case) writes no event.
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

  -- Sending into a chat marks what the sender received there read, through
  -- read_at like any read receipt (so message-read and conversation-read
  -- follow from the update triggers). SKIP LOCKED: a message locked here is
  -- being marked read by a concurrent read, which waits for the conversation
  -- rows this transaction holds; waiting for it in turn would deadlock.
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
  RETURN NULL;
END
$$;

CREATE TRIGGER messages_listed AFTER INSERT ON messages
  REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION chatwire_messages_listed();

-- Changes to messages: message-updated for an edit, message-deleted for a
-- tombstone, and for read receipts the reader's unread count and
-- conversation-read. Reaction-only changes are told by reaction-changed
-- (chatwire_reactions_changed) instead.
CREATE FUNCTION chatwire_messages_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  importing boolean := coalesce(current_setting('chatwire.importing', true) = 'on', false);
BEGIN
  WITH reads AS (
    SELECT n.receiver_id AS user_id, 'chat:' || n.sender_id AS id, count(*) AS n, max(n.read_at) AS read_at
    FROM updated_new n JOIN updated_old o ON o.id = n.id
    WHERE o.read_at IS NULL AND n.read_at IS NOT NULL AND n.receiver_id IS NOT NULL
    GROUP BY n.receiver_id, n.sender_id
  ), counted AS (
    UPDATE conversations c
    SET unread_count = greatest(0, c.unread_count - r.n),
        last_read_at = CASE WHEN c.last_read_at IS NULL THEN r.read_at ELSE greatest(c.last_read_at, r.read_at) END
    FROM reads r
    WHERE c.user_id = r.user_id AND c.id = r.id
    RETURNING c.user_id, c.id, c.last_read_at, c.unread_count
  )
  INSERT INTO events (channel, event, data, recipients)
  SELECT chatwire_user_channel(user_id), 'conversation-read',
         jsonb_build_object('conversation_id', id, 'read_at', chatwire_time(last_read_at),
                            'unread_count', unread_count),
         ARRAY[user_id]
  FROM counted
  WHERE NOT importing
  ORDER BY user_id, id;

  IF importing THEN
    RETURN NULL;
  END IF;

  INSERT INTO events (channel, event, data, recipients, dedupe_key)
  SELECT chatwire_message_channel(n.sender_id, n.receiver_id, n.room_id), 'message-updated',
         chatwire_message_json(n),
         CASE WHEN n.room_id IS NULL THEN ARRAY[n.sender_id, n.receiver_id] END,
         'message-updated:' || n.id || ':' || n.version
  FROM updated_new n JOIN updated_old o ON o.id = n.id
  WHERE n.deleted_at IS NULL AND n.version > o.version
    AND (n.body IS DISTINCT FROM o.body OR n.attachment IS DISTINCT FROM o.attachment
         OR n.edited_at IS DISTINCT FROM o.edited_at)
  ORDER BY n.id
  ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING;

  -- A deleted message's upload (006_attachments.sql) goes with it: the cron
  -- removes the object.
  UPDATE attachments a SET discarded_at = now()
  FROM updated_new n JOIN updated_old o ON o.id = n.id
  WHERE a.message_id = n.id AND o.deleted_at IS NULL AND n.deleted_at IS NOT NULL
    AND a.discarded_at IS NULL;

  INSERT INTO events (channel, event, data, recipients, dedupe_key)
  SELECT ch.channel, 'message-deleted',
         jsonb_build_object('id', n.id, 'channel', ch.channel,
                            'deleted_at', chatwire_time(n.deleted_at), 'version', n.version),
         CASE WHEN n.room_id IS NULL THEN ARRAY[n.sender_id, n.receiver_id] END,
         'message-deleted:' || n.id
  FROM updated_new n JOIN updated_old o ON o.id = n.id
  CROSS JOIN LATERAL (SELECT chatwire_message_channel(n.sender_id, n.receiver_id, n.room_id) AS channel) ch
  WHERE o.deleted_at IS NULL AND n.deleted_at IS NOT NULL
  ORDER BY n.id
  ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING;
  RETURN NULL;
END
$$;

CREATE TRIGGER messages_changed AFTER UPDATE ON messages
  REFERENCING OLD TABLE AS updated_old NEW TABLE AS updated_new
  FOR EACH STATEMENT EXECUTE FUNCTION chatwire_messages_changed();

-- A reaction added (INSERT) or taken back (DELETE), by the API or anyone
-- else: the message's summary and version, then reaction-changed.
CREATE FUNCTION chatwire_reactions_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  -- Lock the messages first: NO KEY UPDATE goes along with the KEY SHARE lock
  -- the foreign key check took, and makes concurrent reactions to one
  -- message queue here. The summary below is then a new statement with a new
  -- snapshot, which sees every reaction committed while this one waited: a
  -- summary computed before the wait would lose them.
  PERFORM 1 FROM messages WHERE id IN (SELECT message_id FROM changed) ORDER BY id FOR NO KEY UPDATE;

  WITH summary AS (
    SELECT t.message_id,
           coalesce((SELECT jsonb_agg(jsonb_build_object('emoji', g.emoji, 'count', g.n,
                                                         'users', to_jsonb(g.users[1:10]))
                                      ORDER BY g.first_at, g.emoji)
                     FROM (SELECT r.emoji, count(*) AS n, min(r.created_at) AS first_at,
                                  array_agg(r.user_id ORDER BY r.created_at, r.user_id) AS users
                           FROM message_reactions r WHERE r.message_id = t.message_id
                           GROUP BY r.emoji) g), '[]') AS reactions
    FROM (SELECT DISTINCT message_id FROM changed) t
  ), updated AS (
    UPDATE messages m SET reactions = s.reactions
    FROM summary s WHERE m.id = s.message_id
    RETURNING m.id, m.sender_id, m.receiver_id, m.room_id, m.reactions, m.version
  )
  INSERT INTO events (channel, event, data, recipients)
  SELECT ch.channel, 'reaction-changed',
         jsonb_build_object('message_id', u.id, 'channel', ch.channel, 'emoji', c.emoji,
                            'user_id', c.user_id, 'on', TG_OP = 'INSERT',
                            'reactions', u.reactions, 'version', u.version),
         CASE WHEN u.room_id IS NULL THEN ARRAY[u.sender_id, u.receiver_id] END
  FROM changed c JOIN updated u ON u.id = c.message_id
  CROSS JOIN LATERAL (SELECT chatwire_message_channel(u.sender_id, u.receiver_id, u.room_id) AS channel) ch
  ORDER BY c.message_id, c.created_at, c.emoji, c.user_id;
  RETURN NULL;
END
$$;

CREATE TRIGGER message_reactions_added AFTER INSERT ON message_reactions
  REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION chatwire_reactions_changed();

CREATE TRIGGER message_reactions_removed AFTER DELETE ON message_reactions
  REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION chatwire_reactions_changed();

-- Joining lists the room at once: its last message if any, the read mark at
-- the join (older messages are never unread). Leaving takes it off the list.
CREATE FUNCTION chatwire_members_listed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO conversations (user_id, id, room_id, last_message_id, updated_at, last_read_at)
  SELECT j.user_id, 'room:' || j.room_id, j.room_id, last.id, coalesce(last.created_at, j.joined_at), j.joined_at
  FROM joined j
  LEFT JOIN LATERAL (SELECT m.id, m.created_at FROM messages m
                     WHERE m.room_id IS NOT NULL AND m.room_id = j.room_id
                     ORDER BY m.created_at DESC, m.id DESC LIMIT 1) last ON true
  ORDER BY j.user_id, j.room_id
  ON CONFLICT (user_id, id) DO NOTHING;
  RETURN NULL;
END
$$;

CREATE TRIGGER room_members_listed AFTER INSERT ON room_members
  REFERENCING NEW TABLE AS joined
  FOR EACH STATEMENT EXECUTE FUNCTION chatwire_members_listed();

CREATE FUNCTION chatwire_members_unlisted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  DELETE FROM conversations c
  USING left_members l
  WHERE c.user_id = l.user_id AND c.id = 'room:' || l.room_id;
  RETURN NULL;
END
$$;

CREATE TRIGGER room_members_unlisted AFTER DELETE ON room_members
  REFERENCING OLD TABLE AS left_members
  FOR EACH STATEMENT EXECUTE FUNCTION chatwire_members_unlisted();

-- Only the owner runs the new trigger functions (as 003 does for the others).
REVOKE ALL ON FUNCTION chatwire_messages_version(), chatwire_messages_listed(), chatwire_messages_changed(),
  chatwire_reactions_changed(), chatwire_members_listed(), chatwire_members_unlisted() FROM PUBLIC;

-- The list for data written before this migration. Chats: the last message
-- and the messages still unread. Rooms had no read marks: the upgrade starts
-- every member's mark now, rather than call a room's whole past unread.
INSERT INTO conversations (user_id, id, other_id, last_message_id, updated_at, unread_count, last_read_at)
SELECT side.user_id, 'chat:' || side.other_id, side.other_id,
       (array_agg(m.id ORDER BY m.created_at DESC, m.id DESC))[1],
       max(m.created_at),
       count(*) FILTER (WHERE side.incoming AND m.read_at IS NULL),
       max(m.read_at) FILTER (WHERE side.incoming)
FROM messages m
CROSS JOIN LATERAL (VALUES (m.sender_id, m.receiver_id, false),
                           (m.receiver_id, m.sender_id, true)) AS side (user_id, other_id, incoming)
WHERE m.receiver_id IS NOT NULL AND m.sender_id <> m.receiver_id
GROUP BY side.user_id, side.other_id;

INSERT INTO conversations (user_id, id, room_id, last_message_id, updated_at, last_read_at)
SELECT rm.user_id, 'room:' || rm.room_id, rm.room_id, last.id,
       coalesce(last.created_at, rm.joined_at), greatest(rm.joined_at, now())
FROM room_members rm
LEFT JOIN LATERAL (SELECT m.id, m.created_at FROM messages m
                   WHERE m.room_id IS NOT NULL AND m.room_id = rm.room_id
                   ORDER BY m.created_at DESC, m.id DESC LIMIT 1) last ON true;

ANALYZE conversations;
