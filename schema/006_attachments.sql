-- chatwire schema, version 6. File messages (issue 16): uploads go straight to S3-compatible storage;
-- this table knows who asked for each upload and which message carries it.

CREATE TABLE attachments (
  id           uuid PRIMARY KEY,
  owner_id     text NOT NULL,
  -- Chosen by the server: a folder per owner and the random id.
  object_key   text NOT NULL UNIQUE,
  name         text NOT NULL,
  size         bigint NOT NULL CHECK (size > 0),
  content_type text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- Set by the insert of the one message that carries the upload.
  message_id   uuid UNIQUE,
  -- Set when the upload is to be removed: never sent in time, or its message
  -- deleted. The cron deletes the object, then the row; a discarded upload
  -- can no longer be sent.
  discarded_at timestamptz
);
-- The cron's sweep: old uploads never sent, and discarded ones.
CREATE INDEX attachments_unsent ON attachments (created_at) WHERE message_id IS NULL;
CREATE INDEX attachments_discarded ON attachments (discarded_at) WHERE discarded_at IS NOT NULL;
-- Only chatwire (the owner) reaches it: no grant, row-level security, no policy.
SELECT chatwire_lock_down(ARRAY['attachments']::regclass[]);

-- A message whose attachment names an upload (an "id" and no "url") takes
-- that upload in the same statement: only the sender's own, not yet sent,
-- not discarded. Anything else fails the insert, so nothing is stored, and
-- two concurrent sends of one upload cannot both succeed (the row lock
-- makes the second see the first's message_id). Links ("url") and text
-- messages do not fire it.
CREATE FUNCTION chatwire_attach_upload() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE attachments SET message_id = NEW.id
  WHERE id = (NEW.attachment ->> 'id')::uuid
    AND owner_id = NEW.sender_id
    AND message_id IS NULL
    AND discarded_at IS NULL;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'attachment % is not an unsent upload of the sender', NEW.attachment ->> 'id'
      USING ERRCODE = 'CW016';
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER messages_attach_upload AFTER INSERT ON messages
  FOR EACH ROW WHEN (NEW.attachment ? 'id' AND NOT NEW.attachment ? 'url')
  EXECUTE FUNCTION chatwire_attach_upload();
