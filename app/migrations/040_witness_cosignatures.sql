-- Witness cosignatures of the log's checkpoints (issue 17, tlog-witness), outside the event
-- log: each row is one cosignature/v1 line a witness returned from add-checkpoint. A checkpoint
-- is served with its cosignatures appended (the view cosigned_checkpoints).
CREATE TABLE witness_cosignatures (
    size         bigint NOT NULL REFERENCES checkpoints (size),
    witness      text NOT NULL,      -- the witness's vkey, as configured
    line         text NOT NULL CHECK (line LIKE E'\u2014 % %\n'),
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (size, witness)
);

CREATE TRIGGER witness_cosignatures_append_only BEFORE UPDATE OR DELETE ON witness_cosignatures
    FOR EACH ROW EXECUTE FUNCTION bt_reject_change();
CREATE TRIGGER witness_cosignatures_no_truncate BEFORE TRUNCATE ON witness_cosignatures
    FOR EACH STATEMENT EXECUTE FUNCTION bt_reject_change();

-- The checkpoints with the cosignature lines appended to their notes, and how many there are.
CREATE VIEW cosigned_checkpoints AS
    SELECT c.size, c.root, c.chain_head, c.created_at,
           c.note || coalesce(w.lines, '') AS note,
           coalesce(w.n, 0)::int AS cosignatures
      FROM checkpoints c
      LEFT JOIN LATERAL (SELECT string_agg(line, '' ORDER BY witness) AS lines, count(*) AS n
                           FROM witness_cosignatures WHERE size = c.size) w ON true;

GRANT SELECT, INSERT ON witness_cosignatures TO bloodtrace_app;
GRANT SELECT ON cosigned_checkpoints TO bloodtrace_app;
