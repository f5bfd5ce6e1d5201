-- Transfusion safety read models (issue 12): reactions (coded; a free-text type of an old
-- record counted as "uncoded") and transfusions for the haemovigilance report, emergency
-- issues with their follow-up crossmatch, each unit's standing crossmatch, and issues given
-- with anti-D prophylaxis or an override. New tables of a new projection ("transfusion"),
-- marked stale so the next start fills them from the whole log (app/store/stale.py).

CREATE TABLE rm_reactions (
    position               bigint NOT NULL,
    event_id               uuid,
    unit_id                text,
    site_id                text,
    patient_id             text,
    reaction_type          text,
    reported_type          text,
    severity               text,
    imputability           text,
    occurred_at            timestamptz,
    recorded_at            timestamptz,
    PRIMARY KEY (position)
);

CREATE TABLE rm_transfusions (
    position               bigint NOT NULL,
    unit_id                text,
    site_id                text,
    patient_id             text,
    occurred_at            timestamptz,
    volume_ml              integer,
    stopped_reason         text,
    late_completion_reason text,
    PRIMARY KEY (position)
);

CREATE TABLE rm_emergency_issues (
    unit_id                text NOT NULL,
    position               bigint NOT NULL,
    site_id                text,
    patient_id             text,
    issued_at              timestamptz,
    crossmatch             text,
    crossmatched_at        timestamptz,
    crossmatch_position    bigint,
    returned_at            timestamptz,
    PRIMARY KEY (unit_id, position)
);

CREATE TABLE rm_crossmatches (
    unit_id                text NOT NULL,
    patient_id             text,
    crossmatch             text,
    crossmatched_at        timestamptz,
    position               bigint,
    PRIMARY KEY (unit_id)
);

CREATE TABLE rm_override_issues (
    position               bigint NOT NULL,
    unit_id                text,
    site_id                text,
    patient_id             text,
    issued_at              timestamptz,
    anti_d_prophylaxis     boolean,
    override_reason        text,
    PRIMARY KEY (position)
);

CREATE INDEX rm_reactions_time ON rm_reactions (occurred_at);
CREATE INDEX rm_reactions_site_time ON rm_reactions (site_id, occurred_at);
CREATE INDEX rm_reactions_unit ON rm_reactions (unit_id, position);
CREATE INDEX rm_reactions_event ON rm_reactions (event_id);
CREATE INDEX rm_transfusions_time ON rm_transfusions (occurred_at);
CREATE INDEX rm_transfusions_site_time ON rm_transfusions (site_id, occurred_at);
CREATE INDEX rm_transfusions_late ON rm_transfusions (occurred_at) WHERE late_completion_reason IS NOT NULL;
CREATE INDEX rm_emergency_issues_open ON rm_emergency_issues (issued_at) WHERE returned_at IS NULL;
CREATE INDEX rm_override_issues_time ON rm_override_issues (issued_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON rm_reactions, rm_transfusions, rm_emergency_issues,
    rm_crossmatches, rm_override_issues TO bloodtrace_app;

INSERT INTO projection_position (projection, position) VALUES ('transfusion', -1);
