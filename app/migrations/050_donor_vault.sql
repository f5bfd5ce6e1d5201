-- The donor identity vault (issue 19): personal data beside the log, never in it. Each row
-- holds one donor's identity sealed with the donor's own data key (AES-GCM), that key only
-- wrapped by the master key, and a blind index of name + birth date (HMAC, never plaintext).
-- The national id is never stored: the primary key is its keyed hash, the pseudonym the log
-- knows. Crypto-shredding sets wrapped_key, ciphertext and the blind index to NULL.

CREATE TABLE donor_vault (
    donor_id          text PRIMARY KEY,
    key_id            text NOT NULL,
    wrapped_key       bytea,
    ciphertext        bytea,
    name_dob_index    bytea,
    registered_site   text,
    registered_at     timestamptz NOT NULL DEFAULT now(),
    shredded_at       timestamptz,
    CHECK ((shredded_at IS NULL) = (wrapped_key IS NOT NULL AND ciphertext IS NOT NULL))
);

CREATE INDEX donor_vault_name_dob ON donor_vault (name_dob_index)
    WHERE name_dob_index IS NOT NULL;

-- One row: values made at first start with the master key and the pepper. A later start
-- must reproduce them, or it stops (a wrong key never yields a silently empty vault).
CREATE TABLE vault_keys (
    id                smallint PRIMARY KEY CHECK (id = 1),
    key_id            text NOT NULL,
    master_check      bytea NOT NULL,
    pepper_check      bytea NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT ON donor_vault, vault_keys TO bloodtrace_app;
GRANT UPDATE (wrapped_key, ciphertext, name_dob_index, shredded_at) ON donor_vault
    TO bloodtrace_app;
