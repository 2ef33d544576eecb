-- Import 1:1 messages from a legacy table into chatwire's messages table.
--
-- Run it once chatwire's schema is in place (chatwire migrate), against a
-- direct connection:
--
--   psql "$DIRECT_URL" -v ON_ERROR_STOP=1 -f migration/import_legacy_messages.sql
--
-- What to edit: only the view legacy_source below. It names the source table
-- (legacy_messages) and maps its columns onto the five the import reads. If
-- your columns have other names (message instead of content, user_id instead
-- of sender_id, ...), change the SELECT list there and nothing else.
--
-- What it does:
--   * ids: a uuid id is kept as it is. Any other id (bigint, serial, text)
--     becomes the name-based UUID version 3 of that id (its text) in the
--     namespace 4d4635fc-e895-428c-a7ee-04d1edd6ab36, so every run derives the
--     same uuid and any language's uuid library can compute it too; the old id
--     is kept in client_id as 'legacy-<id>'.
--   * content becomes body (NULL becomes ''); created_at is kept to the
--     microsecond.
--   * is_read = true becomes read_at = created_at: the real reading time was
--     never stored, created_at is its lower bound, and unlike now() it gives
--     the same value on every run. is_read false or NULL stays unread.
--   * Idempotent: rows already in messages (same id) are skipped, so running it
--     twice, or again after more legacy rows arrived, imports nothing twice.
--     The one thing a later run changes in an imported row: a message marked
--     read in the legacy table since then gets its read_at (never the reverse).
--   * One transaction: it imports everything or nothing.
--   * Quiet: chatwire.importing = 'on' makes the message triggers (schema
--     001_init.sql) skip new-message, message-notification and message-read
--     events, so years of history are not pushed to anyone. They still fill
--     contacts, which presence needs.
--   * Rows without a sender, a receiver or a created_at cannot be messages of a
--     1:1 chat; they are left out and counted in the report at the end.
--
-- It does not touch the legacy table.

BEGIN;

-- Transaction-local: ends with COMMIT or ROLLBACK, so nothing else on this
-- connection (or on a pooled server connection) is ever imported quietly.
SET LOCAL chatwire.importing = 'on';
-- A large history can take longer than a role's default statement_timeout.
SET LOCAL statement_timeout = 0;

-- EDIT HERE: the source table and its columns.
-- ::text makes uuid and bigint ids (and uuid user ids, such as Supabase's
-- auth.users ids) read the same way; chatwire user ids are text, the JWT sub.
-- If created_at is a timestamp without time zone, write
-- created_at AT TIME ZONE 'UTC' (or the zone it was written in).
CREATE TEMPORARY VIEW legacy_source AS
SELECT id::text          AS legacy_id,
       sender_id::text   AS sender_id,
       receiver_id::text AS receiver_id,
       content::text     AS content,
       created_at::timestamptz AS created_at,
       is_read::boolean  AS is_read
FROM legacy_messages;

-- The uuid each legacy row becomes, and the client_id that remembers an id
-- that was not a uuid. UUID v3 (RFC 9562): md5 of namespace bytes and name,
-- then the version nibble set to 3 and the variant bits to 10.
CREATE TEMPORARY VIEW legacy_mapped AS
SELECT CASE WHEN is_uuid THEN legacy_id::uuid
            ELSE overlay(overlay(h placing '3' from 13 for 1)
                         placing substr('89ab', (('x' || substr(h, 17, 1))::bit(4)::int & 3) + 1, 1)
                         from 17 for 1)::uuid
       END AS id,
       CASE WHEN is_uuid THEN NULL ELSE 'legacy-' || legacy_id END AS client_id,
       sender_id, receiver_id, content, created_at, is_read
FROM (SELECT s.*,
             s.legacy_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' AS is_uuid,
             md5(decode('4d4635fce895428ca7ee04d1edd6ab36', 'hex') || convert_to(s.legacy_id, 'UTF8')) AS h
      FROM legacy_source s) AS t;

-- One statement, so the statement-level trigger runs once for the whole
-- import (one contacts insert) instead of once per row. Ordered so the rows
-- land roughly in time order on disk.
INSERT INTO messages (id, client_id, sender_id, receiver_id, body, created_at, read_at)
SELECT id, client_id, sender_id, receiver_id, coalesce(content, ''), created_at,
       CASE WHEN is_read THEN created_at END
FROM legacy_mapped
WHERE sender_id IS NOT NULL AND receiver_id IS NOT NULL AND created_at IS NOT NULL
ORDER BY created_at, id
ON CONFLICT (id) DO NOTHING;

-- Read receipts that reached the legacy table after an earlier run (old
-- clients still marking messages read there): carried over, never undone.
-- Quiet as well: the message-read trigger skips imports too.
UPDATE messages m
SET read_at = l.created_at
FROM legacy_mapped l
WHERE m.id = l.id AND l.is_read AND m.read_at IS NULL;

-- The report psql prints: every legacy row is either in messages now (imported
-- by this run or an earlier one) or was left out as unusable.
SELECT (SELECT count(*) FROM legacy_source) AS legacy_rows,
       (SELECT count(*) FROM legacy_mapped l
        WHERE EXISTS (SELECT 1 FROM messages m WHERE m.id = l.id)) AS in_messages,
       (SELECT count(*) FROM legacy_source
        WHERE sender_id IS NULL OR receiver_id IS NULL OR created_at IS NULL) AS left_out;

DROP VIEW legacy_mapped;
DROP VIEW legacy_source;

COMMIT;
