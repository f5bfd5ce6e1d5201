-- Signed checkpoints of the log and the manifest of the keys that sign them (issue 6).

-- Every key that has signed checkpoints, with its validity window. A key is never deleted or
-- changed; it may only be retired once, by setting valid_until.
CREATE TABLE signing_keys (
    vkey         text PRIMARY KEY,          -- C2SP verifier key: name+keyid+base64(0x01||key)
    name         text NOT NULL,
    key_id       text NOT NULL CHECK (key_id ~ '^[0-9a-f]{8}$'),
    valid_from   timestamptz NOT NULL DEFAULT now(),
    valid_until  timestamptz,
    CHECK (valid_until IS NULL OR valid_until >= valid_from)
);

-- One signed tree head per size, append-only. note is the C2SP signed note exactly as signed.
CREATE TABLE checkpoints (
    size        bigint PRIMARY KEY CHECK (size > 0),
    root        bytea NOT NULL CHECK (octet_length(root) = 32),
    chain_head  bytea NOT NULL CHECK (octet_length(chain_head) = 32),
    note        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION bt_reject_change();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION bt_reject_change();

CREATE OR REPLACE FUNCTION bt_key_retire_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.valid_until IS NOT NULL OR NEW.valid_until IS NULL
       OR (NEW.vkey, NEW.name, NEW.key_id, NEW.valid_from)
          IS DISTINCT FROM (OLD.vkey, OLD.name, OLD.key_id, OLD.valid_from) THEN
        RAISE EXCEPTION 'bloodtrace: a signing key may only be retired, once'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER signing_keys_retire_only BEFORE UPDATE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION bt_key_retire_only();
CREATE TRIGGER signing_keys_no_delete BEFORE DELETE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION bt_reject_change();
CREATE TRIGGER signing_keys_no_truncate BEFORE TRUNCATE ON signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION bt_reject_change();

GRANT SELECT, INSERT ON checkpoints, signing_keys TO bloodtrace_app;
GRANT UPDATE (valid_until) ON signing_keys TO bloodtrace_app;
