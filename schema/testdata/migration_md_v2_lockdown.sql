-- The lock-down MIGRATION.md asked Supabase projects to run by hand before
-- schema 3 (step 2 of "From Supabase Realtime", both blocks, verbatim).
-- The upgrade test applies it to a schema-2 database, then migrates.

-- RLS on, and no policy: the Data API (anon, authenticated) sees nothing.
-- chatwire connects as the table owner, which RLS does not restrict.
ALTER TABLE events          ENABLE ROW LEVEL SECURITY;
ALTER TABLE users           ENABLE ROW LEVEL SECURITY;
ALTER TABLE contacts        ENABLE ROW LEVEL SECURITY;
ALTER TABLE rooms           ENABLE ROW LEVEL SECURITY;
ALTER TABLE room_members    ENABLE ROW LEVEL SECURITY;
ALTER TABLE typing_throttle ENABLE ROW LEVEL SECURITY;
ALTER TABLE messages        ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON events, users, contacts, typing_throttle, chatwire_schema_version
  FROM anon, authenticated;

GRANT SELECT, INSERT ON messages TO authenticated;
GRANT UPDATE (read_at) ON messages TO authenticated;
CREATE POLICY legacy_select ON messages FOR SELECT TO authenticated
  USING ((SELECT auth.uid())::text IN (sender_id, receiver_id));
CREATE POLICY legacy_insert ON messages FOR INSERT TO authenticated
  WITH CHECK (sender_id = (SELECT auth.uid())::text AND room_id IS NULL);
CREATE POLICY legacy_mark_read ON messages FOR UPDATE TO authenticated
  USING (receiver_id = (SELECT auth.uid())::text)
  WITH CHECK (receiver_id = (SELECT auth.uid())::text);

-- chatwire's triggers run as the writer. Let them write events and contacts,
-- which the writer itself may not read, by running them as their owner.
ALTER FUNCTION chatwire_messages_inserted() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION chatwire_messages_read()     SECURITY DEFINER SET search_path = public, pg_temp;
