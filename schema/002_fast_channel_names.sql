-- Faster channel-name functions, same results.
--
-- 001's chatwire_enc is a SQL function over generate_series and string_agg,
-- which Postgres cannot inline: about 60 µs a call, and chatwire_chat_channel
-- calls it four times. The message trigger computes a chat channel three
-- times per 1:1 message, so every insert paid about 1 ms of CPU, a bulk insert
-- of 100,000 messages took minutes, and its long-running transaction held back
-- the snapshot xmin that poll waits for, across the whole cluster.
--
-- These PL/pgSQL versions return exactly what 001's do (lib/store's tests
-- compare them with lib/chat.Enc and ChatChannel): ids made only of
-- [A-Za-z0-9_] come back unchanged without a loop, others are encoded byte by
-- byte, and a chat channel encodes each id once.

CREATE OR REPLACE FUNCTION chatwire_enc(id text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  bytes bytea;
  out   text := '';
  b     int;
BEGIN
  -- ltrim removes every leading character of the set: nothing left means
  -- nothing to encode (it never matches a multi-byte character).
  IF ltrim(id, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_') = '' THEN
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

CREATE OR REPLACE FUNCTION chatwire_chat_channel(a text, b text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  x text := chatwire_enc(a);
  y text := chatwire_enc(b);
BEGIN
  -- Ordered bytewise (collation "C"), as lib/chat.ChatChannel orders them.
  IF y COLLATE "C" < x COLLATE "C" THEN
    RETURN 'private-chat-' || y || '-' || x;
  END IF;
  RETURN 'private-chat-' || x || '-' || y;
END
$$;
