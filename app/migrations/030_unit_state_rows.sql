-- The unit read model holds each unit's and each donation's domain state field for field
-- (app/projections/state_rows.py), beside the unit's view, so the read model folds events with
-- the domain's own evolve and cannot disagree with the writer. Read models are derived data:
-- the tables are made anew and the 'units' projection is marked stale (position -1), so the
-- next start rebuilds it from the log (app/store/stale.py) before serving.

DROP TABLE IF EXISTS rm_units__shadow, rm_donations__shadow;
DROP TABLE rm_units;
DROP TABLE rm_donations;

CREATE TABLE rm_units (
    unit_id               text NOT NULL,
    din                   text NOT NULL,
    product_code          text,
    category              text,
    volume_ml             integer,
    collected_at          timestamptz,
    expires_at            timestamptz,
    source_dins           jsonb,
    collection_type       text,
    donor_id              text,
    collected_site_id     text,
    parents               jsonb,
    children              jsonb,
    custodian_site_id     text,
    location              text,
    in_transit_to         text,
    shipment_id           text,
    shipped_at            timestamptz,
    released              boolean,
    abo                   text,
    rhd                   text,
    quarantined           boolean,
    quarantine_reason     text,
    consumed              boolean,
    excursions            integer,
    reserved_patient_id   text,
    patient_abo           text,
    patient_rhd           text,
    crossmatch            text,
    issued_patient_id     text,
    issued_at             timestamptz,
    ward                  text,
    emergency             boolean,
    fate                  text,
    fate_reason           text,
    fate_at               timestamptz,
    recipient_patient_id  text,
    status                text NOT NULL,
    in_stock              boolean NOT NULL,
    in_transit_from       text,
    fate_site_id          text,
    adverse_reactions     integer,
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
    collected_at          timestamptz,
    unit_ids              jsonb,
    tests                 jsonb,
    reactive              jsonb,
    product_code          text,
    category              text,
    volume_ml             integer,
    position              bigint,
    PRIMARY KEY (din)
);

CREATE INDEX rm_units_stock_fefo ON rm_units (custodian_site_id, category, abo, rhd, expires_at, unit_id) WHERE in_stock;
CREATE INDEX rm_units_stock_site_expiry ON rm_units (custodian_site_id, expires_at, unit_id) WHERE in_stock;
CREATE INDEX rm_units_stock_expiry ON rm_units (expires_at, unit_id) WHERE in_stock;
CREATE INDEX rm_units_din ON rm_units (din);
CREATE INDEX rm_units_in_transit ON rm_units (shipped_at) WHERE in_transit_to IS NOT NULL;
CREATE INDEX rm_units_unfated ON rm_units (expires_at) WHERE fate IS NULL AND NOT consumed;
CREATE INDEX rm_donations_donor ON rm_donations (donor_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON rm_units, rm_donations TO bloodtrace_app;

UPDATE projection_position SET position = -1 WHERE projection = 'units';
