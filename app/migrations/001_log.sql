-- The append-only, hash-chained event log.
-- Positions are dense because only the holder of the log_head row lock assigns them, and it
-- commits before the next writer can read the head: commit order == position order.

DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bloodtrace_app') THEN
        CREATE ROLE bloodtrace_app LOGIN;
    END IF;
END $$;

CREATE OR REPLACE FUNCTION bt_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'bloodtrace: % on % is forbidden: the log is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TABLE events (
    position        bigint PRIMARY KEY CHECK (position > 0),
    event_id        uuid NOT NULL UNIQUE,
    stream          text NOT NULL,
    stream_version  bigint NOT NULL CHECK (stream_version > 0),
    type            text NOT NULL,
    schema_version  integer NOT NULL,
    record          bytea NOT NULL,           -- the exact canonical bytes that were hashed
    leaf_hash       bytea NOT NULL CHECK (octet_length(leaf_hash) = 32),
    chain_hash      bytea NOT NULL CHECK (octet_length(chain_hash) = 32),
    content_hash    bytea NOT NULL,           -- sha256 of the request, for idempotent retries
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    actor_key       text NOT NULL,
    actor_role      text NOT NULL,
    actor_site      text,
    UNIQUE (stream, stream_version)
);
CREATE INDEX events_type_time ON events (type, recorded_at);
CREATE INDEX events_actor_time ON events (actor_key, recorded_at);
CREATE INDEX events_site_time ON events (actor_site, recorded_at);
CREATE INDEX events_recorded ON events (recorded_at);

-- Every unit, donation, donor, site, patient and lookback an event concerns.
CREATE TABLE event_refs (
    kind      text NOT NULL,
    ref       text NOT NULL,
    position  bigint NOT NULL REFERENCES events (position),
    PRIMARY KEY (kind, ref, position)
);

-- Every perfect subtree of the RFC 9162 Merkle tree: node (level, idx) covers leaves
-- [idx * 2^level, (idx + 1) * 2^level). Proofs read O(log n) of them.
CREATE TABLE merkle_nodes (
    level  integer NOT NULL,
    idx    bigint NOT NULL,
    hash   bytea NOT NULL,
    PRIMARY KEY (level, idx)
);

-- The single row every writer locks: the serialisation point of the log.
CREATE TABLE log_head (
    id             integer PRIMARY KEY CHECK (id = 1),
    position       bigint NOT NULL,
    chain_hash     bytea NOT NULL,
    compact_range  bytea NOT NULL
);
INSERT INTO log_head VALUES (1, 0, '\x0000000000000000000000000000000000000000000000000000000000000000', '\x');

-- The writer's snapshot of each aggregate (derived from the log, rebuilt from it if lost).
CREATE TABLE write_state (
    kind  text NOT NULL,
    id    text NOT NULL,
    body  jsonb NOT NULL,
    PRIMARY KEY (kind, id)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['events', 'event_refs', 'merkle_nodes'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION bt_reject_change()', t || '_append_only', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION bt_reject_change()', t || '_no_truncate', t);
        EXECUTE format('GRANT SELECT, INSERT ON %I TO bloodtrace_app', t);
    END LOOP;
END $$;
-- The head may only move forward; it is not history, the events are.
CREATE TRIGGER log_head_no_delete BEFORE DELETE ON log_head FOR EACH ROW EXECUTE FUNCTION bt_reject_change();
CREATE TRIGGER log_head_no_truncate BEFORE TRUNCATE ON log_head FOR EACH STATEMENT EXECUTE FUNCTION bt_reject_change();
CREATE OR REPLACE FUNCTION bt_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.position < OLD.position THEN
        RAISE EXCEPTION 'bloodtrace: the log head may not move back (% -> %)', OLD.position, NEW.position
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER log_head_forward BEFORE UPDATE ON log_head FOR EACH ROW EXECUTE FUNCTION bt_head_forward();
GRANT SELECT, UPDATE ON log_head TO bloodtrace_app;
GRANT SELECT, INSERT, UPDATE ON write_state TO bloodtrace_app;
