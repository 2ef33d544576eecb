-- chatwire schema, version 7: the send path writes each event row once and
-- commits once per message.
--
-- Publish state: the events_pending side table.
--
-- Until version 6 every event carried published_at, and acknowledging a
-- publish updated the event row. The column was in the partial index
-- events_unpublished, so that update was never HOT: each event was written
-- twice, with all of its indexes. From version 7 on:
--
--   * An event row is immutable once written. Whether it still has to reach
--     Pusher is a row of events_pending (event_id): present means "not yet
--     confirmed published".
--   * The AFTER INSERT trigger on events below adds that row for every event,
--     whoever writes it (these triggers, chatwire's Go code, a legacy writer,
--     later migrations' new events on any channel) and in the same
--     transaction. Nothing that writes an event has to know about publishing.
--   * Confirming a publish deletes the pending rows. The deletes lock with
--     SKIP LOCKED, so an acknowledgement never waits for a redelivery that
--     holds the same rows; if it skips one, that redelivery deletes it.
--     chatwire batches these deletes: a send carries the acknowledgements of
--     earlier sends of the same process in its own transaction, and a process
--     that goes idle writes what it holds before it answers (lib/chat
--     publishAcks). Acknowledgements a frozen or killed process never wrote
--     leave their rows pending: the redelivery below republishes those events
--     and clients de-duplicate.
--   * Redelivery (the cron, the stale step after a publish, the database
--     webhook relay) claims pending rows with FOR UPDATE SKIP LOCKED, joined
--     to their events, publishes them and deletes the pending rows in the
--     same transaction; a failed publish rolls back and leaves them pending.
--   * Deleting old events (retention) deletes their pending rows; a pending
--     row whose event is gone is dropped by the next claim that meets it.
--
-- So a new kind of event needs nothing here: insert it into events and it is
-- pending until someone publishes it.
--
-- Every function here that a trigger runs is SECURITY DEFINER with a fixed
-- search_path, as version 3 (the lock-down) made them: CREATE OR REPLACE
-- resets both, so each definition below repeats them. events_pending is
-- locked down like every other table. The message and join triggers keep
-- version 4's presence privacy exactly (contacts one way, user-status-change
-- when a pair becomes visible); only their shape changes.
--
-- Also in this version:
--   * message events have no dedupe_key: a message is inserted once, and its
--     id is in the event's data (the relay finds the events by it). The key
--     stays for user-joined events, under a partial unique index.
--   * chatwire_messages_inserted is one statement.
--   * chatwire_time is STABLE, as the to_char it wraps: declared IMMUTABLE
--     it could not be inlined and was planned anew on every call.

CREATE TABLE events_pending (
  event_id bigint PRIMARY KEY
);
SELECT chatwire_lock_down('{events_pending}');

INSERT INTO events_pending (event_id)
SELECT id FROM events WHERE published_at IS NULL;

-- Drops events_unpublished with it.
ALTER TABLE events DROP COLUMN published_at;

CREATE FUNCTION chatwire_events_pending() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO events_pending (event_id) SELECT id FROM new_events;
  RETURN NULL;
END
$$;

CREATE TRIGGER events_pending AFTER INSERT ON events
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION chatwire_events_pending();

ALTER TABLE events DROP CONSTRAINT events_dedupe_key_key;
CREATE UNIQUE INDEX events_dedupe_key ON events (dedupe_key) WHERE dedupe_key IS NOT NULL;

-- Same output, byte for byte; only the volatility changes.
CREATE OR REPLACE FUNCTION chatwire_time(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- Version 4's message trigger in one statement. The contacts insert is a
-- data-modifying CTE, which runs to completion whether or not the events part
-- yields rows, so an import (chatwire.importing, see version 1) still fills
-- contacts while the WHERE below writes no event for it. ON CONFLICT DO
-- NOTHING finds an existing pair in the index and writes nothing. The events,
-- in the order version 4 wrote them: user-status-change for each pair that
-- became visible (the sender online and not hidden), then new-message on the
-- chat or room channel, then message-notification to the receiver unless they
-- opted out.
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
           jsonb_build_object(
             'id', m.id, 'client_id', m.client_id, 'channel', ch.channel,
             'sender_id', m.sender_id, 'receiver_id', m.receiver_id, 'room_id', m.room_id,
             'body', m.body, 'attachment', m.attachment,
             'created_at', chatwire_time(m.created_at), 'read_at', chatwire_time(m.read_at)),
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

-- Version 4's join trigger, with the ON CONFLICT target naming the partial
-- index.
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
  ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING;

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

-- As version 3 does for the other trigger functions: only the owner may call
-- it (Supabase's default privileges would let anon run it over /rpc).
DO $$
DECLARE
  g record;
BEGIN
  FOR g IN
    SELECT a.grantee
    FROM pg_proc p CROSS JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
    WHERE p.oid = 'chatwire_events_pending()'::regprocedure AND a.grantee <> p.proowner
  LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION chatwire_events_pending() FROM %s',
                   CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END);
  END LOOP;
END
$$;
