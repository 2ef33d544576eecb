-- chatwire schema, version 3: the lock-down.
--
-- chatwire reaches its tables only as their owner. Every other role (PUBLIC,
-- and on Supabase anon, authenticated and service_role, which Supabase's
-- default privileges give ALL on every new table in public) must see nothing:
-- `events` holds every message body, `send_rate_limit` decides who may send.
-- So: row-level security on with no policy, and no grant to anyone but the
-- owner, which RLS does not restrict. Nothing here names a Supabase role, so
-- it runs the same on plain Postgres.
--
-- The triggers write events and contacts for any writer, so they run as their
-- owner (SECURITY DEFINER) with a fixed search_path, which a caller cannot
-- point at its own functions or tables. A later migration that redefines one
-- of them with CREATE OR REPLACE must repeat both attributes: CREATE OR
-- REPLACE resets them (schema/lockdown_test.go checks every trigger function).
--
-- Legacy clients that write `messages` directly (a Supabase parallel run) get
-- back exactly what they need only through chatwire_legacy_writers below.

-- chatwire_lock_down revokes every privilege on the tables (and their
-- columns and sequences) from every role but the owner, and turns row-level
-- security on. Later migrations call it for each table they create:
--   SELECT chatwire_lock_down('{new_table}');
CREATE FUNCTION chatwire_lock_down(tables regclass[]) RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  g record;
BEGIN
  FOR g IN
    -- Table privileges (a NULL acl means the owner's defaults: nothing for others).
    SELECT c.oid::regclass AS rel, a.grantee
    FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
    WHERE c.oid = ANY (tables) AND a.grantee <> c.relowner
    UNION
    -- Column privileges, e.g. GRANT UPDATE (read_at): not in relacl.
    SELECT c.oid::regclass, a.grantee
    FROM pg_class c JOIN pg_attribute t ON t.attrelid = c.oid
    CROSS JOIN LATERAL aclexplode(t.attacl) a
    WHERE c.oid = ANY (tables) AND a.grantee <> c.relowner
    UNION
    -- Sequences behind identity and serial columns.
    SELECT s.oid::regclass, a.grantee
    FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
    CROSS JOIN LATERAL aclexplode(s.relacl) a
    WHERE d.refobjid = ANY (tables) AND d.classid = 'pg_class'::regclass AND a.grantee <> s.relowner
  LOOP
    EXECUTE format('REVOKE ALL ON %s FROM %s', g.rel,
                   CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END);
  END LOOP;
  FOR i IN 1 .. coalesce(array_length(tables, 1), 0) LOOP
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tables[i]);
  END LOOP;
END
$$;

-- The policies MIGRATION.md used to ask for; chatwire_legacy_writers replaces them.
DROP POLICY IF EXISTS legacy_select ON messages;
DROP POLICY IF EXISTS legacy_insert ON messages;
DROP POLICY IF EXISTS legacy_mark_read ON messages;

SELECT chatwire_lock_down(ARRAY[
  'users', 'rooms', 'room_members', 'messages', 'contacts', 'events',
  'typing_throttle', 'send_rate_limit', 'chatwire_schema_version']::regclass[]);

ALTER FUNCTION chatwire_messages_inserted() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION chatwire_messages_read()     SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION chatwire_members_joined()    SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION chatwire_members_left()      SECURITY DEFINER SET search_path = public, pg_temp;

-- No CHECK on messages.attachment: it would also refuse marking read an old
-- row that holds a malformed one. chatwire validates what it writes, legacy
-- writers cannot write the column at all, and lib/store reads any other
-- writer's attachment defensively (a malformed one reads as none).

-- The user a Supabase Data API request acts for: PostgREST puts the verified
-- JWT's claims in request.jwt.claims (auth.uid() reads the same setting).
-- NULL when there is none.
CREATE FUNCTION chatwire_caller() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT nullif(nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub', '')
$$;

-- Which roles write messages directly, and the send rate limit their inserts
-- spend from the same buckets as POST /api/messages/send.
CREATE TABLE chatwire_legacy_writers (
  role_name  name PRIMARY KEY,
  send_count double precision NOT NULL CHECK (send_count >= 0),
  send_per   interval NOT NULL CHECK (send_per > interval '0')
);
SELECT chatwire_lock_down('{chatwire_legacy_writers}');

-- A direct insert by a legacy writer: the sender is the caller, every column
-- the server sets is set here whatever the client sent, the body obeys the
-- limits of POST /api/messages/send (API.md), and the insert spends a send
-- from the caller's bucket. Errors carry PostgREST's PTnnn codes, so the Data
-- API answers 400 or 429 as chatwire itself would.
CREATE FUNCTION chatwire_legacy_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  caller text := chatwire_caller();
  lim chatwire_legacy_writers%ROWTYPE;
  took boolean;
  left_tokens double precision;
BEGIN
  IF caller IS NULL THEN
    RAISE SQLSTATE 'PT401' USING MESSAGE = 'no signed-in user';
  END IF;
  IF NEW.sender_id IS DISTINCT FROM caller AND NEW.sender_id IS NOT NULL THEN
    RAISE SQLSTATE 'PT403' USING MESSAGE = 'sender_id must be the signed-in user';
  END IF;
  NEW.sender_id := caller;
  NEW.id := gen_random_uuid();
  NEW.created_at := now();
  NEW.read_at := NULL;
  NEW.room_id := NULL;
  NEW.attachment := NULL;
  NEW.body := btrim(coalesce(NEW.body, ''), E' \t\n\r\f\v');
  IF NEW.body = '' THEN
    RAISE SQLSTATE 'PT400' USING MESSAGE = 'body: required';
  ELSIF char_length(NEW.body) > 4000 THEN
    RAISE SQLSTATE 'PT400' USING MESSAGE = 'body: at most 4000 characters';
  ELSIF NEW.receiver_id IS NULL OR NEW.receiver_id = '' OR NEW.receiver_id = caller THEN
    RAISE SQLSTATE 'PT400' USING MESSAGE = 'receiver_id: another user is required';
  ELSIF octet_length(chatwire_chat_channel(caller, NEW.receiver_id)) > 164 THEN
    RAISE SQLSTATE 'PT400' USING MESSAGE = 'receiver_id: user id too long for a channel name';
  ELSIF NEW.client_id IS NOT NULL AND NEW.client_id !~ '^[A-Za-z0-9_-]{1,64}$' THEN
    RAISE SQLSTATE 'PT400' USING MESSAGE = 'client_id: 1-64 of A-Z a-z 0-9 _ -';
  END IF;

  -- TG_ARGV[0] is the writer's role: current_user here is the owner.
  SELECT * INTO lim FROM chatwire_legacy_writers w WHERE w.role_name = TG_ARGV[0];
  IF FOUND AND lim.send_count > 0 THEN
    -- The same bucket and arithmetic as lib/store's takeSendTokenSQL.
    INSERT INTO send_rate_limit AS r (user_id, tokens, updated_at, allowed)
    VALUES (caller, lim.send_count - 1, clock_timestamp(), true)
    ON CONFLICT (user_id) DO UPDATE SET
      tokens = chatwire_send_tokens(r.tokens, r.updated_at, EXCLUDED.updated_at, lim.send_count,
                                    extract(epoch FROM lim.send_per) * 1000000)
             - CASE WHEN chatwire_send_tokens(r.tokens, r.updated_at, EXCLUDED.updated_at, lim.send_count,
                                              extract(epoch FROM lim.send_per) * 1000000) >= 1 THEN 1 ELSE 0 END,
      updated_at = GREATEST(r.updated_at, EXCLUDED.updated_at),
      allowed = chatwire_send_tokens(r.tokens, r.updated_at, EXCLUDED.updated_at, lim.send_count,
                                     extract(epoch FROM lim.send_per) * 1000000) >= 1
    RETURNING r.allowed, r.tokens INTO took, left_tokens;
    IF NOT took THEN
      RAISE SQLSTATE 'PT429' USING MESSAGE = format('too many messages: at most %s per %s', lim.send_count, lim.send_per),
        DETAIL = format('retry after %s ms', ceil((1 - left_tokens) * extract(epoch FROM lim.send_per) * 1000 / lim.send_count));
    END IF;
  END IF;
  RETURN NEW;
END
$$;

-- A legacy writer marking a message read: read_at only ever moves from NULL
-- to the time of the update; every other column is out of its grant.
CREATE FUNCTION chatwire_legacy_mark_read() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  NEW.read_at := coalesce(OLD.read_at, CASE WHEN NEW.read_at IS NULL THEN NULL ELSE now() END);
  RETURN NEW;
END
$$;

-- chatwire_legacy_writers(role, true, count, per) lets role (a Supabase
-- project's `authenticated`) write messages directly, and nothing more:
--   * insert its own 1:1 messages (INSERT on sender_id, receiver_id, body,
--     client_id; chatwire_legacy_insert sets the rest and spends a send of
--     count per per from the caller's bucket; count 0 is no limit);
--   * read the messages of its own 1:1 chats;
--   * mark messages it received read (UPDATE of read_at only).
-- chatwire_legacy_writers(role, false) revokes all of it. Both are idempotent.
-- Run by the owner (chatwire's migrate role); nobody else may execute it.
CREATE FUNCTION chatwire_legacy_writers(role_name name, enabled boolean,
                                        send_count double precision DEFAULT 20,
                                        send_per interval DEFAULT interval '10 seconds')
RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
#variable_conflict use_variable
DECLARE
  r text := quote_ident(role_name);
  suffix text := md5(role_name);
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
    RAISE EXCEPTION 'role % does not exist', role_name;
  END IF;
  EXECUTE format('DROP POLICY IF EXISTS %I ON messages', 'chatwire_legacy_read_' || suffix);
  EXECUTE format('DROP POLICY IF EXISTS %I ON messages', 'chatwire_legacy_insert_' || suffix);
  EXECUTE format('DROP POLICY IF EXISTS %I ON messages', 'chatwire_legacy_mark_read_' || suffix);
  EXECUTE format('DROP TRIGGER IF EXISTS %I ON messages', 'chatwire_legacy_insert_' || suffix);
  EXECUTE format('DROP TRIGGER IF EXISTS %I ON messages', 'chatwire_legacy_mark_read_' || suffix);
  EXECUTE format('REVOKE ALL ON messages FROM %s', r);
  EXECUTE format('REVOKE ALL ON FUNCTION chatwire_caller() FROM %s', r);
  DELETE FROM chatwire_legacy_writers w WHERE w.role_name = chatwire_legacy_writers.role_name;
  IF NOT enabled THEN
    RETURN;
  END IF;

  INSERT INTO chatwire_legacy_writers VALUES (role_name, send_count, send_per);
  EXECUTE format('GRANT EXECUTE ON FUNCTION chatwire_caller() TO %s', r);
  EXECUTE format('GRANT SELECT, INSERT (sender_id, receiver_id, body, client_id), UPDATE (read_at) ON messages TO %s', r);
  EXECUTE format($p$CREATE POLICY %I ON messages FOR SELECT TO %s
    USING (room_id IS NULL AND (SELECT chatwire_caller()) IN (sender_id, receiver_id))$p$,
    'chatwire_legacy_read_' || suffix, r);
  EXECUTE format($p$CREATE POLICY %I ON messages FOR INSERT TO %s
    WITH CHECK (room_id IS NULL AND sender_id = (SELECT chatwire_caller()))$p$,
    'chatwire_legacy_insert_' || suffix, r);
  EXECUTE format($p$CREATE POLICY %I ON messages FOR UPDATE TO %s
    USING (room_id IS NULL AND receiver_id = (SELECT chatwire_caller()))
    WITH CHECK (room_id IS NULL AND receiver_id = (SELECT chatwire_caller()))$p$,
    'chatwire_legacy_mark_read_' || suffix, r);
  -- The WHEN clause keeps chatwire's own writes (as the owner) free of both triggers.
  EXECUTE format($t$CREATE TRIGGER %I BEFORE INSERT ON messages FOR EACH ROW
    WHEN (current_user = %L) EXECUTE FUNCTION chatwire_legacy_insert(%L)$t$,
    'chatwire_legacy_insert_' || suffix, role_name, role_name);
  EXECUTE format($t$CREATE TRIGGER %I BEFORE UPDATE ON messages FOR EACH ROW
    WHEN (current_user = %L) EXECUTE FUNCTION chatwire_legacy_mark_read()$t$,
    'chatwire_legacy_mark_read_' || suffix, role_name);
END
$$;

-- Only the owner manages the lock-down; Supabase's default privileges would
-- otherwise let anon execute these (and the triggers' functions) over /rpc.
DO $$
DECLARE
  f record;
BEGIN
  FOR f IN
    SELECT p.oid::regprocedure AS fn, a.grantee
    FROM pg_proc p CROSS JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
    WHERE p.pronamespace = 'public'::regnamespace AND a.grantee <> p.proowner
      AND p.proname IN ('chatwire_lock_down', 'chatwire_legacy_writers', 'chatwire_legacy_insert',
                        'chatwire_legacy_mark_read', 'chatwire_caller', 'chatwire_messages_inserted',
                        'chatwire_messages_read', 'chatwire_members_joined', 'chatwire_members_left')
  LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM %s', f.fn,
                   CASE WHEN f.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(f.grantee)) END);
  END LOOP;
END
$$;
