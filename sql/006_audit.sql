-- The audit log (docs/audit.md): append-only and hash-chained. The writer (src/store/audit.c) numbers the rows
-- itself, under an advisory lock, as the newest id + 1: ids have no gaps, so a gap is a removed row. Every row
-- carries prev_hash (the previous row's hash; zeros for the first) and hash = SHA-256(prev_hash || its content).
ALTER TABLE audit_events ALTER COLUMN id DROP DEFAULT;
DROP SEQUENCE IF EXISTS audit_events_id_seq;
ALTER TABLE audit_events
    ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN hash SET NOT NULL,
    ADD CONSTRAINT audit_events_id_positive CHECK (id > 0),
    ADD CONSTRAINT audit_events_hash_length CHECK (octet_length(prev_hash) = 32 AND octet_length(hash) = 32),
    ADD CONSTRAINT audit_events_details_object CHECK (jsonb_typeof(details) = 'object'),
    ADD CONSTRAINT audit_events_action_length CHECK (length(action) BETWEEN 1 AND 64);

-- export --since/--until, and the admin API's queries by time
CREATE INDEX audit_events_at ON audit_events (at);

-- Rows cannot be changed or removed by the application: no UPDATE, DELETE or TRUNCATE for anyone through
-- privileges, and, since the table's owner (the role Tessera connects as in a simple setup) is not bound by
-- privileges, a trigger that refuses them whoever asks. The owner or a superuser can still drop or disable
-- the trigger (ALTER TABLE ... DISABLE TRIGGER): that is what `tessera audit verify` is for. In production,
-- let a role that does not own the tables run the server (docs/audit.md).
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM PUBLIC;

CREATE FUNCTION tessera_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'audit rows are never changed or removed; see docs/audit.md';
END $$;

CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_audit_append_only();
