-- chatwire schema, version 5: abuse limits shared by every instance.
--
-- Per-user token buckets for the actions besides sending that cost others
-- something: creating rooms (they crowd GET /api/rooms), adding other users
-- to one's rooms (each member's status then fans out to all of them), and
-- typing starts (each is a Pusher event). The limits themselves are
-- configuration (ROOM_CREATE_LIMIT, ROOM_ADD_LIMIT, TYPING_RATE_LIMIT); this
-- table only holds each user's bucket. UNLOGGED like send_rate_limit: a crash
-- empties it, which only forgives what users had spent.
CREATE UNLOGGED TABLE action_rate_limit (
  action     text NOT NULL,
  user_id    text NOT NULL,
  tokens     double precision NOT NULL,
  updated_at timestamptz NOT NULL,
  -- Whether the last take succeeded: the upsert's RETURNING sees only the new row.
  allowed    boolean NOT NULL,
  PRIMARY KEY (action, user_id)
);
SELECT chatwire_lock_down('{action_rate_limit}');

-- chatwire_take_action takes one token from the bucket of ($1 action, $2
-- user), holding up to $3 tokens refilled evenly over $4 microseconds, with
-- the arithmetic of send_rate_limit (chatwire_send_tokens). It returns
-- whether the token was there and what the bucket holds now. The upsert
-- locks the row, so concurrent takes of one user queue on it.
CREATE FUNCTION chatwire_take_action(text, text, double precision, double precision)
RETURNS TABLE (allowed boolean, tokens double precision)
LANGUAGE sql AS $$
  INSERT INTO action_rate_limit AS b (action, user_id, tokens, updated_at, allowed)
  VALUES ($1, $2, $3 - 1, clock_timestamp(), true)
  ON CONFLICT (action, user_id) DO UPDATE SET
    tokens = chatwire_send_tokens(b.tokens, b.updated_at, EXCLUDED.updated_at, $3, $4)
           - CASE WHEN chatwire_send_tokens(b.tokens, b.updated_at, EXCLUDED.updated_at, $3, $4) >= 1 THEN 1 ELSE 0 END,
    updated_at = GREATEST(b.updated_at, EXCLUDED.updated_at),
    allowed = chatwire_send_tokens(b.tokens, b.updated_at, EXCLUDED.updated_at, $3, $4) >= 1
  RETURNING b.allowed, b.tokens
$$;

-- A typing stop is sent only after a start in that chat that was not stopped
-- yet: stopped_at records the last stop sent.
ALTER TABLE typing_throttle ADD COLUMN stopped_at timestamptz;

-- GET /api/rooms?prefix=: public rooms whose name starts with a prefix, any
-- case, newest first.
CREATE INDEX rooms_public_name ON rooms (lower(name) text_pattern_ops, created_at DESC, id DESC)
  WHERE visibility = 'public';

-- chatwire_start_typing decides a typing start of ($1 user) in ($2 channel):
--   * within $3 microseconds of the user's last start there: throttled, with
--     the wait (the per-chat throttle of 001_init.sql);
--   * else one token of the user's typing bucket across all chats ($4 per $5
--     microseconds; $4 = 0 is no limit): none left is limited, with the wait;
--   * else the start is recorded and sent.
-- Only a sent start is recorded, so a stop (chatwire_stop_typing) follows
-- only starts that were really sent, and a throttled keystroke spends no
-- token. The upsert's WHERE keeps two concurrent first starts from both
-- being sent.
CREATE FUNCTION chatwire_start_typing(text, text, bigint, double precision, double precision,
                                      OUT sent boolean, OUT limited boolean, OUT wait_us bigint)
LANGUAGE plpgsql AS $$
DECLARE
  last timestamptz;
  took boolean;
  left_tokens double precision;
BEGIN
  sent := false;
  limited := false;
  SELECT t.last_start_at INTO last FROM typing_throttle t WHERE t.user_id = $1 AND t.channel = $2;
  IF last IS NOT NULL AND last > now() - $3 * interval '1 microsecond' THEN
    wait_us := (extract(epoch FROM last + $3 * interval '1 microsecond' - clock_timestamp()) * 1000000)::bigint;
    RETURN;
  END IF;
  IF $4 > 0 THEN
    SELECT a.allowed, a.tokens INTO took, left_tokens FROM chatwire_take_action('typing', $1, $4, $5) a;
    IF NOT took THEN
      limited := true;
      wait_us := ceil((1 - left_tokens) * $5 / $4)::bigint;
      RETURN;
    END IF;
  END IF;
  INSERT INTO typing_throttle AS t (user_id, channel, last_start_at)
  VALUES ($1, $2, now())
  ON CONFLICT (user_id, channel) DO UPDATE SET last_start_at = EXCLUDED.last_start_at
  WHERE t.last_start_at <= now() - $3 * interval '1 microsecond'
  RETURNING true INTO sent;
  IF sent IS NULL THEN
    -- A concurrent start won: it was sent, this one waits for the interval.
    sent := false;
    wait_us := $3;
  END IF;
END
$$;

-- chatwire_stop_typing records a stop of ($1 user) in ($2 channel) and says
-- whether to send it: only when a start there was sent and not stopped yet.
CREATE FUNCTION chatwire_stop_typing(text, text) RETURNS boolean
LANGUAGE sql AS $$
  WITH stopped AS (
    UPDATE typing_throttle SET stopped_at = now()
    WHERE user_id = $1 AND channel = $2 AND (stopped_at IS NULL OR stopped_at < last_start_at)
    RETURNING 1
  )
  SELECT EXISTS (SELECT 1 FROM stopped)
$$;
