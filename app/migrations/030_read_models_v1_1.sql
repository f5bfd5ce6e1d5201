-- Read models v1.1 (issues 10 and 11). Each unit's and each donation's domain state is held
-- field for field (app/projections/state_rows.py) beside the unit's view, so the read model
-- folds events with the domain's own evolve and cannot disagree with the writer; test results
-- are kept as a history; lookbacks gain their deadline, notifications and closure; late
-- entries are listed. Read models are derived data: these tables are made anew and their
-- projections marked stale (position -1), so the next start rebuilds them from the log
-- (app/store/stale.py) before serving.

DROP TABLE IF EXISTS rm_units__shadow, rm_donations__shadow, rm_tests__shadow,
    rm_lookbacks__shadow, rm_lookback_units__shadow;
DROP TABLE rm_units, rm_donations, rm_tests, rm_lookbacks, rm_lookback_units;
ALTER TABLE rm_sites ADD COLUMN labs jsonb;

CREATE TABLE rm_units (
    unit_id                text NOT NULL,
    din                    text,
    product_code           text,
    category               text,
    volume_ml              integer,
    collected_at           timestamptz,
    expires_at             timestamptz,
    source_dins            jsonb,
    collection_type        text,
    donor_id               text,
    collected_site_id      text,
    parents                jsonb,
    children               jsonb,
    custodian_site_id      text,
    location               text,
    in_transit_to          text,
    shipment_id            text,
    shipped_at             timestamptz,
    released               boolean,
    abo                    text,
    rhd                    text,
    holds                  jsonb,
    attributes             jsonb,
    consumed               boolean,
    excursions             integer,
    reserved_patient_id    text,
    patient_abo            text,
    patient_rhd            text,
    crossmatch             text,
    issued_patient_id      text,
    issued_at              timestamptz,
    ward                   text,
    emergency              boolean,
    fate                   text,
    fate_reason            text,
    fate_at                timestamptz,
    recipient_patient_id   text,
    intended_use           text,
    intended_recipient_id  text,
    transfusion_started_at timestamptz,
    returned_late          boolean,
    last_at                timestamptz,
    status                 text NOT NULL,
    in_stock               boolean NOT NULL,
    quarantined            boolean,
    quarantine_reason      text,
    in_transit_from        text,
    fate_site_id           text,
    adverse_reactions      integer,
    created_position       bigint,
    last_position          bigint,
    updated_at             timestamptz,
    PRIMARY KEY (unit_id)
);

CREATE TABLE rm_donations (
    din                    text NOT NULL,
    kind                   text,
    donor_id               text,
    site_id                text,
    collection_type        text,
    collected_at           timestamptz,
    unit_ids               jsonb,
    results                jsonb,
    donor_group            jsonb,
    dispatched_to          jsonb,
    product_code           text,
    category               text,
    volume_ml              integer,
    position               bigint,
    PRIMARY KEY (din)
);

CREATE TABLE rm_tests (
    din                    text NOT NULL,
    position               bigint NOT NULL,
    marker                 text,
    test_kind              text,
    result                 text,
    sample_id              text,
    assay                  text,
    kit_lot                text,
    lab_site_id            text,
    tested_at              timestamptz,
    PRIMARY KEY (din, position)
);

CREATE TABLE rm_lookbacks (
    lookback_id            text NOT NULL,
    donor_id               text,
    din                    text,
    marker                 text,
    since                  text,
    started_at             timestamptz,
    site_id                text,
    actor_key              text,
    position               bigint,
    unit_count             integer,
    acknowledged_count     integer,
    deadline               timestamptz,
    closed_at              timestamptz,
    outcome                text,
    note                   text,
    PRIMARY KEY (lookback_id)
);

CREATE TABLE rm_lookback_units (
    lookback_id            text NOT NULL,
    unit_id                text NOT NULL,
    status                 text NOT NULL,
    custodian_site_id      text,
    patient_id             text,
    acknowledged_at        timestamptz,
    acknowledged_site_id   text,
    ack_position           bigint,
    notified_at            timestamptz,
    notified_position      bigint,
    PRIMARY KEY (lookback_id, unit_id)
);

CREATE TABLE rm_late_entries (
    position               bigint NOT NULL,
    event_id               uuid,
    type                   text,
    stream                 text,
    occurred_at            timestamptz,
    recorded_at            timestamptz,
    reason                 text,
    actor_key              text,
    actor_role             text,
    actor_site_id          text,
    PRIMARY KEY (position)
);

CREATE INDEX rm_units_stock_fefo ON rm_units (custodian_site_id, category, abo, rhd, expires_at, unit_id) WHERE in_stock;
CREATE INDEX rm_units_stock_site_expiry ON rm_units (custodian_site_id, expires_at, unit_id) WHERE in_stock;
CREATE INDEX rm_units_stock_expiry ON rm_units (expires_at, unit_id) WHERE in_stock;
CREATE INDEX rm_units_din ON rm_units (din);
CREATE INDEX rm_units_in_transit ON rm_units (shipped_at) WHERE in_transit_to IS NOT NULL;
CREATE INDEX rm_units_unfated ON rm_units (expires_at) WHERE fate IS NULL AND NOT consumed;
CREATE INDEX rm_donations_donor ON rm_donations (donor_id);
CREATE INDEX rm_lookbacks_open ON rm_lookbacks (deadline) WHERE closed_at IS NULL;
CREATE INDEX rm_late_entries_recorded ON rm_late_entries (recorded_at, position);

GRANT SELECT, INSERT, UPDATE, DELETE ON rm_units, rm_donations, rm_tests, rm_lookbacks,
    rm_lookback_units, rm_late_entries TO bloodtrace_app;

UPDATE projection_position SET position = -1 WHERE projection IN ('units', 'lookback');
INSERT INTO projection_position (projection, position) VALUES ('audit', -1);
