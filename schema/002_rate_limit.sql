-- Per-user send rate limit, shared by every function instance: a token bucket
-- per user holding up to `capacity` sends, refilled evenly over `per`.
-- UNLOGGED like typing_throttle: a crash empties it, which only forgives
-- whatever the users had spent.
CREATE UNLOGGED TABLE send_rate_limit (
  user_id    text PRIMARY KEY,
  tokens     double precision NOT NULL,
  updated_at timestamptz NOT NULL,
  -- Whether the last take succeeded: the upsert's RETURNING sees only the new row.
  allowed    boolean NOT NULL
);

-- chatwire_send_tokens is the bucket's content at `now`: what it held at
-- `since` plus the refill since then, at most `capacity`. A `now` before
-- `since` (a concurrent take committed while this one waited for the row)
-- refills nothing.
CREATE FUNCTION chatwire_send_tokens(tokens double precision, since timestamptz, now timestamptz,
                                     capacity double precision, per_us double precision)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT LEAST(capacity, tokens + GREATEST(0, extract(epoch FROM now - since) * 1000000) * capacity / per_us)
$$;
