"""The read-model tables as data: name, typed columns and primary key.

The same specs drive the runner's bulk upserts and the rebuild's shadow tables, so one apply
writes live tables or their ``__shadow`` twins. ``app/migrations/020_read_models.sql`` creates
them (and their indexes); an integration test checks that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.events.state import DonationState
from app.events.unit import UnitState
from app.projections.state_rows import StateColumns

Row = dict[str, Any]
"""One read-model row, keyed by column name."""


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A read-model table: ``columns`` are (name, PostgreSQL type), ``key`` its primary key."""

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)

    def key_of(self, row: Row) -> tuple[Any, ...]:
        key = self.key
        if len(key) == 1:  # most tables; called for every row a batch touches
            return (row[key[0]],)
        if len(key) == 2:
            return (row[key[0]], row[key[1]])
        return tuple(row[k] for k in key)

    def blank(self) -> Row:
        """A row with every column None; callers fill in what they know."""
        return dict.fromkeys(self.column_names)


def _cols(spec: str) -> tuple[tuple[str, str], ...]:
    pairs = (line.split(None, 1) for line in spec.strip().splitlines())
    return tuple((name, pgtype.strip()) for name, pgtype in pairs)


UNIT_STATE = StateColumns(UnitState)
DONATION_STATE = StateColumns(DonationState)

UNITS = TableSpec("rm_units", (*UNIT_STATE.columns, *_cols("""
    status text
    in_stock boolean
    quarantined boolean
    quarantine_reason text
    in_transit_from text
    fate_site_id text
    adverse_reactions integer
    created_position bigint
    last_position bigint
    updated_at timestamptz
""")), ("unit_id",))
"""Every field of ``UnitState``, then its view (``app.events.unit.view_of``), the count of
annotations (reaction reports, which change no state), then when the row was made and last
changed."""

DONATIONS = TableSpec("rm_donations", (*DONATION_STATE.columns, *_cols("""
    product_code text
    category text
    volume_ml integer
    position bigint
""")), ("din",))
"""Every field of ``DonationState``, then the primary product as collected or pooled."""

TESTS = TableSpec("rm_tests", _cols("""
    din text
    position bigint
    marker text
    test_kind text
    result text
    sample_id text
    assay text
    kit_lot text
    lab_site_id text
    tested_at timestamptz
"""), ("din", "position"))
"""Every result of every donation: a later result never replaces an earlier one."""

LINEAGE = TableSpec("rm_lineage", _cols("""
    parent_unit_id text
    child_unit_id text
    kind text
    position bigint
"""), ("parent_unit_id", "child_unit_id"))

FATES = TableSpec("rm_fates", _cols("""
    position bigint
    unit_id text
    fate text
    reason text
    site_id text
    category text
    abo text
    rhd text
    actor_key text
    actor_role text
    actor_site_id text
    occurred_at timestamptz
    recorded_at timestamptz
"""), ("position",))

SITES = TableSpec("rm_sites", _cols("""
    site_id text
    name text
    kind text
    region text
    position bigint
    labs jsonb
"""), ("site_id",))
"""The site register; ``labs`` the labs serving a collection site (``LabServiceAgreed``)."""

CUSTODY = TableSpec("rm_custody", _cols("""
    unit_id text
    from_position bigint
    kind text
    site_id text
    from_site_id text
    shipment_id text
    from_at timestamptz
    to_at timestamptz
    to_position bigint
    end_reason text
    accepted boolean
"""), ("unit_id", "from_position"))

PATIENT_UNITS = TableSpec("rm_patient_units", _cols("""
    patient_id text
    position bigint
    unit_id text
    action text
    site_id text
    occurred_at timestamptz
    emergency boolean
    detail text
"""), ("patient_id", "position"))

LOOKBACKS = TableSpec("rm_lookbacks", _cols("""
    lookback_id text
    donor_id text
    din text
    marker text
    since text
    started_at timestamptz
    site_id text
    actor_key text
    position bigint
    unit_count integer
    acknowledged_count integer
    deadline timestamptz
    closed_at timestamptz
    outcome text
    note text
"""), ("lookback_id",))

LOOKBACK_UNITS = TableSpec("rm_lookback_units", _cols("""
    lookback_id text
    unit_id text
    status text
    custodian_site_id text
    patient_id text
    acknowledged_at timestamptz
    acknowledged_site_id text
    ack_position bigint
    notified_at timestamptz
    notified_position bigint
"""), ("lookback_id", "unit_id"))

LATE_ENTRIES = TableSpec("rm_late_entries", _cols("""
    position bigint
    event_id uuid
    type text
    stream text
    occurred_at timestamptz
    recorded_at timestamptz
    reason text
    actor_key text
    actor_role text
    actor_site_id text
"""), ("position",))
"""Every event recorded with a ``late_entry_reason`` (RULES §1)."""

REACTIONS = TableSpec("rm_reactions", _cols("""
    position bigint
    event_id uuid
    unit_id text
    site_id text
    patient_id text
    reaction_type text
    reported_type text
    severity text
    imputability text
    occurred_at timestamptz
    recorded_at timestamptz
"""), ("position",))
"""Every ``AdverseReactionReported``: ``reaction_type`` its code, or ``uncoded`` for a free-text
type of an old record (kept as written in ``reported_type``); ``site_id`` the reporting site."""

TRANSFUSIONS = TableSpec("rm_transfusions", _cols("""
    position bigint
    unit_id text
    site_id text
    patient_id text
    occurred_at timestamptz
    volume_ml integer
    stopped_reason text
    late_completion_reason text
"""), ("position",))
"""Every ``UnitTransfused`` (the rate denominator of the haemovigilance report, and the late
completions of the override audit); ``site_id`` the recording site."""

EMERGENCY_ISSUES = TableSpec("rm_emergency_issues", _cols("""
    unit_id text
    position bigint
    site_id text
    patient_id text
    issued_at timestamptz
    crossmatch text
    crossmatched_at timestamptz
    crossmatch_position bigint
    returned_at timestamptz
"""), ("unit_id", "position"))
"""Every uncrossmatched (emergency) issue, with the follow-up crossmatch recorded on the unit
afterwards, or ``returned_at`` when the unit came back unused (no crossmatch follows then)."""

CROSSMATCHES = TableSpec("rm_crossmatches", _cols("""
    unit_id text
    patient_id text
    crossmatch text
    crossmatched_at timestamptz
    position bigint
"""), ("unit_id",))
"""Each unit's standing crossmatch (as ``UnitState.crossmatch``: set by a reservation, cleared
when it is released or the unit returned), so an emergency issue of a unit already
crossmatched for that patient is born with its crossmatch."""

OVERRIDE_ISSUES = TableSpec("rm_override_issues", _cols("""
    position bigint
    unit_id text
    site_id text
    patient_id text
    issued_at timestamptz
    anti_d_prophylaxis boolean
    override_reason text
"""), ("position",))
"""Every issue given with anti-D prophylaxis or an override reason; the override audit keeps
those of RhD-positive platelets (the unit's category and group, read from ``rm_units``, never
change once it is released)."""

ALL_TABLES: tuple[TableSpec, ...] = (
    UNITS, DONATIONS, TESTS, LINEAGE, FATES, SITES, CUSTODY, PATIENT_UNITS, LOOKBACKS,
    LOOKBACK_UNITS, LATE_ENTRIES, REACTIONS, TRANSFUSIONS, EMERGENCY_ISSUES, CROSSMATCHES,
    OVERRIDE_ISSUES,
)
