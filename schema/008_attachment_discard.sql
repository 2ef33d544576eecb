-- chatwire schema, version 8. Deleting a message deletes its file (issue 16).
--
-- An upload whose message is deleted (a DELETE of the row, such as a room
-- deleted with its messages, or a legacy writer's), or whose message no
-- longer names it (an edit or a tombstone that clears the attachment), is
-- marked discarded in the same transaction: nobody can fetch it from then on,
-- and the next cron run deletes the object and the row.

CREATE FUNCTION chatwire_discard_upload() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE attachments SET discarded_at = now()
  WHERE id = (OLD.attachment ->> 'id')::uuid
    AND message_id = OLD.id
    AND discarded_at IS NULL;
  RETURN NULL;
END $$;

CREATE TRIGGER messages_discard_upload_on_delete AFTER DELETE ON messages
  FOR EACH ROW WHEN (OLD.attachment ? 'id' AND NOT OLD.attachment ? 'url')
  EXECUTE FUNCTION chatwire_discard_upload();

-- OF attachment: marking messages read (UPDATE of read_at) never fires it.
CREATE TRIGGER messages_discard_upload_on_update AFTER UPDATE OF attachment ON messages
  FOR EACH ROW WHEN (OLD.attachment ? 'id' AND NOT OLD.attachment ? 'url'
                     AND NEW.attachment IS DISTINCT FROM OLD.attachment)
  EXECUTE FUNCTION chatwire_discard_upload();
