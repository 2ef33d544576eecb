-- chatwire schema, version 10: being added to a room is not consent.
--
-- Version 4 made a user's status visible to everyone who shares a room with
-- them. But a room's creator may add anyone to it, so creating a private
-- room and adding bob let its creator watch bob's status. Now a room makes a
-- member's status visible to the other members only if that member joined
-- it themselves. room_members.added_by records who added a member (NULL: the
-- user joined themselves or created the room). An added member still sees
-- the members who joined themselves (they consented by being there; the
-- creator by adding). When the added member later joins the room
-- themselves, that is their acceptance: added_by becomes NULL, and the
-- room's other members are told their current status at once.
--
-- Existing memberships get NULL: they count as joined by the user, so
-- nobody who sees someone today stops seeing them with this upgrade.

ALTER TABLE room_members ADD COLUMN added_by text;

-- Version 4's audience, through the rooms target joined themselves only.
CREATE OR REPLACE FUNCTION chatwire_presence_audience(target text) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
  SELECT contact_id FROM contacts WHERE user_id = target
  UNION
  SELECT other.user_id FROM room_members mine
  JOIN room_members other ON other.room_id = mine.room_id
  WHERE mine.user_id = target AND mine.added_by IS NULL AND other.user_id <> target
$$;

-- Version 4's chatwire_sees, with the same room rule.
CREATE OR REPLACE FUNCTION chatwire_sees(viewer text, target text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT viewer = target OR (
    NOT coalesce((SELECT presence_hidden FROM users WHERE id = target), false)
    AND (EXISTS (SELECT 1 FROM contacts WHERE user_id = target AND contact_id = viewer)
         OR EXISTS (SELECT 1 FROM room_members mine
                    JOIN room_members other ON other.room_id = mine.room_id
                    WHERE mine.user_id = target AND mine.added_by IS NULL
                      AND other.user_id = viewer)))
$$;

-- Version 7's join trigger: a status event goes to a viewer only about a
-- target who joined the room themselves. SECURITY DEFINER and the
-- search_path of 003_lock_down.sql are repeated: CREATE OR REPLACE resets
-- them.
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
        WHERE m.added_by IS NULL
        UNION
        SELECT m.user_id, j.user_id
        FROM joined j JOIN room_members m ON m.room_id = j.room_id AND m.user_id <> j.user_id
        WHERE j.added_by IS NULL) AS pair
  JOIN users t ON t.id = pair.target
  WHERE t.online AND NOT t.presence_hidden
  ORDER BY pair.viewer, t.id;
  RETURN NULL;
END
$$;

-- chatwire_members_accepted tells the room's other members the current
-- status of each member whose added_by was just cleared (an added member who
-- joined themselves), as the join trigger does for a self-joined member.
CREATE FUNCTION chatwire_members_accepted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO events (channel, event, data, recipients)
  SELECT chatwire_user_channel(m.user_id), 'user-status-change',
         jsonb_build_object('user_id', t.id, 'online', t.online,
                            'last_active_at', chatwire_time(t.last_active_at)),
         ARRAY[m.user_id]
  FROM after_update n
  JOIN before_update o ON o.room_id = n.room_id AND o.user_id = n.user_id
  JOIN room_members m ON m.room_id = n.room_id AND m.user_id <> n.user_id
  JOIN users t ON t.id = n.user_id
  WHERE o.added_by IS NOT NULL AND n.added_by IS NULL
    AND t.online AND NOT t.presence_hidden
  ORDER BY m.user_id, t.id;
  RETURN NULL;
END
$$;

CREATE TRIGGER room_members_accepted AFTER UPDATE ON room_members
  REFERENCING OLD TABLE AS before_update NEW TABLE AS after_update
  FOR EACH STATEMENT EXECUTE FUNCTION chatwire_members_accepted();

-- As version 3 does for the other trigger functions: only the owner may call
-- it (Supabase's default privileges would let anon run it over /rpc).
DO $$
DECLARE
  g record;
BEGIN
  FOR g IN
    SELECT a.grantee
    FROM pg_proc p CROSS JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
    WHERE p.oid = 'chatwire_members_accepted()'::regprocedure AND a.grantee <> p.proowner
  LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION chatwire_members_accepted() FROM %s',
                   CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END);
  END LOOP;
END
$$;
