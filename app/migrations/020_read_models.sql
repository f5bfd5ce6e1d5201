-- Read models (DESIGN §4): mutable tables derived from the log by app/projections.
-- Columns follow app/projections/tables.py in order; a test checks that they agree.
-- Each can be rebuilt from the log into `<table>__shadow` and swapped in (app/store/rebuild.py),
-- which copies these definitions, indexes included.

CREATE TABLE projection_position (
    projection  text PRIMARY KEY,
    position    bigint NOT NULL
);


CREATE TABLE rm_units (
    unit_id               text NOT NULL,
    din                   text NOT NULL,
    product_code          text,
    category              text,
    collection_type       text,
    donor_id              text,
    volume_ml             integer,
    abo                   text,
    rhd                   text,
    status                text NOT NULL,
    released              boolean,
    quarantined           boolean,
    quarantine_reason     text,
    consumed              boolean,
    in_stock              boolean NOT NULL,
    custodian_site_id     text,
    location              text,
    in_transit_from       text,
    in_transit_to         text,
    shipment_id           text,
    shipped_at            timestamptz,
    collected_site_id     text,
    collected_at          timestamptz,
    expires_at            timestamptz,
    reserved_patient_id   text,
    crossmatch            text,
    issued_patient_id     text,
    ward                  text,
    emergency             boolean,
    excursions            integer,
    adverse_reactions     integer,
    fate                  text,
    fate_reason           text,
    fate_at               timestamptz,
    fate_site_id          text,
    recipient_patient_id  text,
    created_position      bigint,
    last_position         bigint,
    updated_at            timestamptz,
    PRIMARY KEY (unit_id)
);

CREATE TABLE rm_donations (
    din                   text NOT NULL,
    kind                  text,
    donor_id              text,
    site_id               text,
    collection_type       text,
    product_code          text,
    category              text,
    volume_ml             integer,
    collected_at          timestamptz,
    position              bigint,
    PRIMARY KEY (din)
);

CREATE TABLE rm_tests (
    din                   text NOT NULL,
    marker                text NOT NULL,
    result                text,
    lab_site_id           text,
    tested_at             timestamptz,
    position              bigint,
    PRIMARY KEY (din, marker)
);

CREATE TABLE rm_lineage (
    parent_unit_id        text NOT NULL,
    child_unit_id         text NOT NULL,
    kind                  text,
    position              bigint,
    PRIMARY KEY (parent_unit_id, child_unit_id)
);

CREATE TABLE rm_fates (
    position              bigint NOT NULL,
    unit_id               text,
    fate                  text,
    reason                text,
    site_id               text,
    category              text,
    abo                   text,
    rhd                   text,
    actor_key             text,
    actor_role            text,
    actor_site_id         text,
    occurred_at           timestamptz,
    recorded_at           timestamptz,
    PRIMARY KEY (position)
);

CREATE TABLE rm_sites (
    site_id               text NOT NULL,
    name                  text,
    kind                  text,
    region                text,
    position              bigint,
    PRIMARY KEY (site_id)
);

CREATE TABLE rm_custody (
    unit_id               text NOT NULL,
    from_position         bigint NOT NULL,
    kind                  text,
    site_id               text,
    from_site_id          text,
    shipment_id           text,
    from_at               timestamptz,
    to_at                 timestamptz,
    to_position           bigint,
    end_reason            text,
    accepted              boolean,
    PRIMARY KEY (unit_id, from_position)
);

CREATE TABLE rm_patient_units (
    patient_id            text NOT NULL,
    position              bigint NOT NULL,
    unit_id               text,
    action                text,
    site_id               text,
    occurred_at           timestamptz,
    emergency             boolean,
    detail                text,
    PRIMARY KEY (patient_id, position)
);

CREATE TABLE rm_lookbacks (
    lookback_id           text NOT NULL,
    donor_id              text,
    din                   text,
    marker                text,
    since                 text,
    started_at            timestamptz,
    site_id               text,
    actor_key             text,
    position              bigint,
    unit_count            integer,
    acknowledged_count    integer,
    PRIMARY KEY (lookback_id)
);

CREATE TABLE rm_lookback_units (
    lookback_id           text NOT NULL,
    unit_id               text NOT NULL,
    status                text,
    custodian_site_id     text,
    patient_id            text,
    acknowledged_at       timestamptz,
    acknowledged_site_id  text,
    ack_position          bigint,
    PRIMARY KEY (lookback_id, unit_id)
);

-- Stock in FEFO order: in-stock units only (no fate, not consumed, not in transit).
CREATE INDEX rm_units_stock_fefo ON rm_units (custodian_site_id, category, abo, rhd, expires_at, unit_id) WHERE in_stock;
CREATE INDEX rm_units_stock_site_expiry ON rm_units (custodian_site_id, expires_at, unit_id) WHERE in_stock;
CREATE INDEX rm_units_stock_expiry ON rm_units (expires_at, unit_id) WHERE in_stock;
CREATE INDEX rm_units_din ON rm_units (din);
-- Audit: custody gaps and units past expiry with no final fate.
CREATE INDEX rm_units_in_transit ON rm_units (shipped_at) WHERE in_transit_to IS NOT NULL;
CREATE INDEX rm_units_unfated ON rm_units (expires_at) WHERE fate IS NULL AND NOT consumed;

CREATE INDEX rm_donations_donor ON rm_donations (donor_id);
CREATE INDEX rm_lineage_child ON rm_lineage (child_unit_id);
CREATE INDEX rm_fates_time ON rm_fates (occurred_at);
CREATE INDEX rm_fates_site_time ON rm_fates (site_id, occurred_at);
CREATE INDEX rm_fates_actor_time ON rm_fates (actor_key, occurred_at);
-- The open custody segment of a unit (not unique: a batch closes one and opens the next).
CREATE INDEX rm_custody_open ON rm_custody (unit_id) WHERE to_position IS NULL;
CREATE INDEX rm_patient_units_unit ON rm_patient_units (unit_id, position);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['projection_position', 'rm_units', 'rm_donations', 'rm_tests',
                             'rm_lineage', 'rm_fates', 'rm_sites', 'rm_custody',
                             'rm_patient_units', 'rm_lookbacks', 'rm_lookback_units'] LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO bloodtrace_app', t);
    END LOOP;
END $$;

INSERT INTO projection_position (projection, position)
VALUES ('units', 0), ('provenance', 0), ('lookback', 0);
