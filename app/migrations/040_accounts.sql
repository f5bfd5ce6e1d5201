-- People (WEB.md §1): credentials live here, outside the log; the log holds the account
-- events (AccountCreated, ...) with no password material. Events recorded by a person carry
-- actor.user_id in their record, and in a column for the audit search by user.
ALTER TABLE events ADD COLUMN actor_user text;
CREATE INDEX events_user_time ON events (actor_user, recorded_at) WHERE actor_user IS NOT NULL;

CREATE TABLE accounts (
    user_id        text PRIMARY KEY,
    name           text NOT NULL,             -- name, role and site: copied from the events
    role           text NOT NULL,
    site_id        text,
    password_hash  text NOT NULL,             -- argon2id, PHC string
    totp_secret    text,                      -- base32, when the person enrolled TOTP
    disabled_at    timestamptz,
    locked_until   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- Failed sign-ins (and failed signatures), for the lock after 5 in 15 minutes.
CREATE TABLE account_failures (
    user_id    text NOT NULL REFERENCES accounts (user_id),
    failed_at  timestamptz NOT NULL
);
CREATE INDEX account_failures_user_time ON account_failures (user_id, failed_at);

-- Sessions of the web: only the SHA-256 of the cookie's secret is kept.
CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,
    user_id      text NOT NULL REFERENCES accounts (user_id),
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

GRANT SELECT, INSERT, UPDATE ON accounts TO bloodtrace_app;
GRANT SELECT, INSERT, DELETE ON account_failures, sessions TO bloodtrace_app;
GRANT UPDATE (last_seen_at) ON sessions TO bloodtrace_app;
