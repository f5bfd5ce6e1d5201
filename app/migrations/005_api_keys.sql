-- API keys: random secrets shown once; only their SHA-256 is kept.
CREATE TABLE api_keys (
    key_id      text PRIMARY KEY,
    secret_hash bytea NOT NULL,
    role        text NOT NULL CHECK (role IN ('collector', 'lab', 'processing', 'inventory',
                                              'hospital', 'auditor', 'admin')),
    site_id     text,
    label       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CHECK ((role IN ('auditor', 'admin')) = (site_id IS NULL))
);
GRANT SELECT, INSERT ON api_keys TO bloodtrace_app;
GRANT UPDATE (revoked_at) ON api_keys TO bloodtrace_app;
