-- Key revocation takes effect at once in every server process (issue 16). Each process
-- caches the keys it has verified; any change to a key row (revoked_at set, or a row changed
-- or removed by the operator) announces the key id on bloodtrace_keys when the transaction
-- commits, and every process listening drops that key from its cache. A process that is not
-- listening does not trust its cache at all (app/api/key_cache.py).
CREATE FUNCTION api_keys_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bloodtrace_keys', OLD.key_id);
    RETURN NULL;
END;
$$;

CREATE TRIGGER api_keys_notify AFTER UPDATE OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION api_keys_notify();

-- Emptying the table is announced as '*': every cached key goes.
CREATE FUNCTION api_keys_notify_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bloodtrace_keys', '*');
    RETURN NULL;
END;
$$;

CREATE TRIGGER api_keys_notify_truncate AFTER TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION api_keys_notify_all();
