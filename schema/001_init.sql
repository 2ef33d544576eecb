-- chatwire schema, version 1.
--
-- The one idea: every fact a client is told about is a row of `events`, written
-- by the triggers below in the same transaction as the change itself. The app and
-- any other writer (a legacy Supabase client inserting into `messages`) therefore
-- produce exactly the same events. Publishing to Pusher is an at-least-once relay
-- of that table; polling reads it gap-free by transaction id.

-- enc writes an id into a channel name: every byte outside [A-Za-z0-9_] becomes
-- '=' and two upper-case hex digits. lib/chat.Enc is the same function in Go; a
-- test keeps them equal.
CREATE FUNCTION chatwire_enc(id text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  bytes bytea;
  b int;
  out text := '';
BEGIN
  -- Fast path: most ids are already plain. translate() works on characters,
  -- and these are all ASCII, so the test is exact.
  IF translate(id, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_', '') = '' THEN
    RETURN id;
  END IF;
  bytes := convert_to(id, 'UTF8');
  FOR i IN 0 .. length(bytes) - 1 LOOP
    b := get_byte(bytes, i);
    IF (b BETWEEN 48 AND 57) OR (b BETWEEN 65 AND 90) OR (b BETWEEN 97 AND 122) OR b = 95 THEN
      out := out || chr(b);
    ELSE
      out := out || '=' || upper(lpad(to_hex(b), 2, '0'));
    END IF;
  END LOOP;
  RETURN out;
END
$$;

-- The two encoded ids are ordered bytewise (collation "C"), so both users
-- compute the same channel. PL/pgSQL, not SQL: the triggers call this once
-- per row, and a plan cached per session is much cheaper than re-planning.
CREATE FUNCTION chatwire_chat_channel(a text, b text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  x text := chatwire_enc(a);
  y text := chatwire_enc(b);
BEGIN
  IF x COLLATE "C" <= y COLLATE "C" THEN
    RETURN 'private-chat-' || x || '-' || y;
  END IF;
  RETURN 'private-chat-' || y || '-' || x;
END
$$;

CREATE FUNCTION chatwire_room_channel(room_id text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT 'private-room-' || chatwire_enc(room_id)
$$;

CREATE FUNCTION chatwire_user_channel(user_id text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT 'private-user-' || chatwire_enc(user_id)
$$;

-- Timestamps in events use the same form as the HTTP API: UTC, milliseconds, 'Z'.
CREATE FUNCTION chatwire_time(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

CREATE TABLE users (
  id                    text PRIMARY KEY,
  name                  text,
  online                boolean NOT NULL DEFAULT false,
  last_active_at        timestamptz,
  -- time_ms of the newest presence webhook applied, so late or repeated
  -- webhooks never move the status backwards.
  presence_changed_at   timestamptz,
  notifications_enabled boolean NOT NULL DEFAULT true,
  muted_channels        text[] NOT NULL DEFAULT '{}'
);

CREATE TABLE rooms (
  -- 32 hex digits: enc() leaves it unchanged, so the channel reads naturally.
  id         text PRIMARY KEY DEFAULT replace(gen_random_uuid()::text, '-', ''),
  name       text NOT NULL,
  visibility text NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'private')),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rooms_public ON rooms (created_at DESC) WHERE visibility = 'public';

CREATE TABLE room_members (
  room_id   text NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  user_id   text NOT NULL,
  joined_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_user ON room_members (user_id, room_id);

CREATE TABLE messages (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  client_id   text,
  sender_id   text NOT NULL,
  receiver_id text,
  room_id     text REFERENCES rooms (id) ON DELETE CASCADE,
  body        text NOT NULL DEFAULT '',
  attachment  jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  read_at     timestamptz,
  CONSTRAINT messages_one_target CHECK ((receiver_id IS NULL) <> (room_id IS NULL))
);
-- Idempotency key: one message per sender and client_id, even under concurrent retries.
CREATE UNIQUE INDEX messages_sender_client_id ON messages (sender_id, client_id)
  WHERE client_id IS NOT NULL;
-- History of a 1:1 chat, newest first, keyset-paginated on (created_at, id).
CREATE INDEX messages_chat_history ON messages
  (least(sender_id, receiver_id), greatest(sender_id, receiver_id), created_at DESC, id DESC)
  WHERE room_id IS NULL;
-- Without statistics on the pair, Postgres guesses a chat holds a couple of
-- rows; for a chat of 100,000 messages it then reads and sorts the whole chat
-- instead of walking the index (a history page at 1M messages: 95 ms -> 0.1 ms).
CREATE STATISTICS messages_chat_pair ON least(sender_id, receiver_id), greatest(sender_id, receiver_id)
  FROM messages;
CREATE INDEX messages_room_history ON messages (room_id, created_at DESC, id DESC)
  WHERE room_id IS NOT NULL;
-- "everything unread from that user"
CREATE INDEX messages_unread ON messages (receiver_id, sender_id) WHERE read_at IS NULL;

-- Who shares a chat with whom: the audience of a user's status changes.
CREATE TABLE contacts (
  user_id    text NOT NULL,
  contact_id text NOT NULL,
  PRIMARY KEY (user_id, contact_id)
);

CREATE TABLE events (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- The writing transaction: poll hands out a row only once every transaction
  -- below it has ended, which a serial or a timestamp alone cannot tell.
  xid          xid8 NOT NULL DEFAULT pg_current_xact_id(),
  channel      text NOT NULL,
  event        text NOT NULL,
  data         jsonb NOT NULL,
  -- Users who may subscribe to the channel; NULL for room channels, whose
  -- audience is the room's current members.
  recipients   text[],
  -- One event per fact: a row relayed twice cannot produce a second event.
  dedupe_key   text UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE INDEX events_log ON events (xid, id);
CREATE INDEX events_unpublished ON events (id) WHERE published_at IS NULL;

-- Typing throttle shared by every function instance. UNLOGGED: losing it in a
-- crash only lets one extra typing event through.
CREATE UNLOGGED TABLE typing_throttle (
  user_id       text NOT NULL,
  channel       text NOT NULL,
  last_start_at timestamptz NOT NULL,
  PRIMARY KEY (user_id, channel)
);

-- Imports stay quiet: importing years of messages from a legacy table
-- (migration/import_legacy_messages.sql) must not write a new-message event and
-- a message-notification for every old row. An import runs
--   SET LOCAL chatwire.importing = 'on';
-- in its transaction and the message triggers return early when they see it
-- (contacts is still filled: presence needs old conversations too). SET LOCAL
-- ends with the transaction, so no pooled connection stays in import mode.
-- current_setting(..., true) is NULL when never set and '' after a SET LOCAL
-- ended; only 'on' means importing.

-- Events for new messages: new-message on the chat or room channel and, for 1:1
-- messages, message-notification to the receiver unless they opted out.
CREATE FUNCTION chatwire_messages_inserted() RETURNS trigger
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

CREATE TRIGGER messages_inserted AFTER INSERT ON messages
  REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION chatwire_messages_inserted();

-- One message-read event per chat and statement, whoever set read_at.
CREATE FUNCTION chatwire_messages_read() RETURNS trigger
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

CREATE TRIGGER messages_read AFTER UPDATE ON messages
  REFERENCING OLD TABLE AS updated_old NEW TABLE AS updated_new
  FOR EACH STATEMENT EXECUTE FUNCTION chatwire_messages_read();

CREATE FUNCTION chatwire_members_joined() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO events (channel, event, data, dedupe_key)
  SELECT chatwire_room_channel(j.room_id), 'user-joined',
         jsonb_build_object('user_id', j.user_id, 'name', coalesce(u.name, j.user_id),
                            'joined_at', chatwire_time(j.joined_at)),
         'user-joined:' || chatwire_enc(j.room_id) || ':' || chatwire_enc(j.user_id) || ':' || chatwire_time(j.joined_at)
  FROM joined j
  LEFT JOIN users u ON u.id = j.user_id
  ON CONFLICT (dedupe_key) DO NOTHING;
  RETURN NULL;
END
$$;

CREATE TRIGGER room_members_joined AFTER INSERT ON room_members
  REFERENCING NEW TABLE AS joined
  FOR EACH STATEMENT EXECUTE FUNCTION chatwire_members_joined();

CREATE FUNCTION chatwire_members_left() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO events (channel, event, data)
  SELECT chatwire_room_channel(l.room_id), 'user-left',
         jsonb_build_object('user_id', l.user_id, 'left_at', chatwire_time(now()))
  FROM left_members l;
  RETURN NULL;
END
$$;

CREATE TRIGGER room_members_left AFTER DELETE ON room_members
  REFERENCING OLD TABLE AS left_members
  FOR EACH STATEMENT EXECUTE FUNCTION chatwire_members_left();
