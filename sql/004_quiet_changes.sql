-- Some writes change nothing that any node keeps in memory: each node's sync thread records, every
-- sync_interval, when its clients were last used (clients.last_used_at). A transaction that sets
-- tessera.quiet to 'on' (set_config('tessera.quiet', 'on', true)) keeps the change trigger silent, so that
-- such a write does not make every node reload its whole directory.
CREATE OR REPLACE FUNCTION tessera_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('tessera.quiet', true), '') <> 'on' THEN
        PERFORM pg_notify('tessera_changes', TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END $$;
