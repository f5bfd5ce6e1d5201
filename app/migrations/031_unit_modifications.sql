-- A unit's modifications (issue 13): UnitState gains ``modifications`` (thawed plasma is kept
-- and carried cold, never thawed again), so rm_units, which holds the state field for field,
-- is made anew with the column in its place and the units projection is marked stale: the
-- next start rebuilds it from the log (app/store/stale.py) before serving.

DROP TABLE IF EXISTS rm_units__shadow;
DROP TABLE rm_units;

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
    modifications          jsonb,
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


CREATE INDEX rm_units_stock_fefo ON rm_units (custodian_site_id, category, abo, rhd, expires_at, unit_id) WHERE in_stock;
CREATE INDEX rm_units_stock_site_expiry ON rm_units (custodian_site_id, expires_at, unit_id) WHERE in_stock;
CREATE INDEX rm_units_stock_expiry ON rm_units (expires_at, unit_id) WHERE in_stock;
CREATE INDEX rm_units_din ON rm_units (din);
CREATE INDEX rm_units_in_transit ON rm_units (shipped_at) WHERE in_transit_to IS NOT NULL;
CREATE INDEX rm_units_unfated ON rm_units (expires_at) WHERE fate IS NULL AND NOT consumed;

GRANT SELECT, INSERT, UPDATE, DELETE ON rm_units TO bloodtrace_app;

UPDATE projection_position SET position = -1 WHERE projection = 'units';
