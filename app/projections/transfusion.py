"""Transfusion safety: reactions and transfusions (the haemovigilance report, RULES §8),
emergency issues with their follow-up crossmatch, and issues given with anti-D prophylaxis or
an override (RULES §7).

Only this model's own tables are read, so it can be rebuilt on its own. A reaction type an old
record wrote as free text (v1 had no codes) is counted as ``uncoded``, its text kept: never
dropped, never a crash. The follow-up crossmatch of an emergency issue is the ``UnitReserved``
the domain accepts on the issued (or already transfused) unit; a unit returned unused ends its
emergency row, since no crossmatch can follow then.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, get_args

from app.events.catalogue_parts import ReactionType
from app.events.messages import StoredEvent
from app.events.slices.issue import ReservationReleased, UnitIssued, UnitReserved, UnitReturned
from app.events.slices.transfusion import AdverseReactionReported, UnitTransfused
from app.projections.base import Load, Subscription, WorkingSet, load, types_of
from app.projections.tables import (
    CROSSMATCHES,
    EMERGENCY_ISSUES,
    OVERRIDE_ISSUES,
    REACTIONS,
    TRANSFUSIONS,
    Row,
    TableSpec,
)

CODED: Final = frozenset(get_args(ReactionType))
UNCODED: Final = "uncoded"


def reaction_code(reported: object) -> str:
    """The reaction type a record gives, as the report counts it: a code, else ``uncoded``."""
    return reported if isinstance(reported, str) and reported in CODED else UNCODED


class TransfusionProjection:
    """Reactions, transfusions, emergency issues and overridden issues."""

    name = "transfusion"
    tables: tuple[TableSpec, ...] = (REACTIONS, TRANSFUSIONS, EMERGENCY_ISSUES, CROSSMATCHES,
                                     OVERRIDE_ISSUES)
    subscription = Subscription(types_of(AdverseReactionReported, UnitTransfused, UnitIssued,
                                         UnitReserved, ReservationReleased, UnitReturned))

    def loads(self, events: Sequence[StoredEvent]) -> list[Load]:
        followed = {e.data.unit_id for e in events
                    if isinstance(e.data, UnitReserved | UnitReturned)}
        standing = {e.data.unit_id for e in events if isinstance(
            e.data, UnitReserved | ReservationReleased | UnitReturned | UnitIssued)}
        return (load(EMERGENCY_ISSUES, "unit_id", followed, open_column="returned_at")
                + load(CROSSMATCHES, "unit_id", standing))

    def apply(self, ws: WorkingSet, event: StoredEvent) -> None:
        d = event.data
        site = event.actor.site_id
        if type(d) is AdverseReactionReported:
            reported = d.__dict__.get("reaction_type")
            ws.put(REACTIONS, {
                "position": event.position, "event_id": event.event_id, "unit_id": d.unit_id,
                "site_id": site, "patient_id": d.patient_id,
                "reaction_type": reaction_code(reported),
                "reported_type": None if reported is None else str(reported),
                "severity": d.severity, "imputability": d.imputability,
                "occurred_at": event.occurred_at, "recorded_at": event.recorded_at,
            })
        elif type(d) is UnitTransfused:
            ws.put(TRANSFUSIONS, {
                "position": event.position, "unit_id": d.unit_id, "site_id": site,
                "patient_id": d.patient_id, "occurred_at": event.occurred_at,
                "volume_ml": d.volume_ml, "stopped_reason": d.stopped_reason,
                "late_completion_reason": d.late_completion_reason,
            })
        elif type(d) is UnitIssued:
            _issued(ws, event, d)
        elif type(d) is UnitReserved:
            _crossmatched(ws, event, d)
        elif type(d) is ReservationReleased:
            _no_crossmatch(ws, d.unit_id)
        elif type(d) is UnitReturned:
            _no_crossmatch(ws, d.unit_id)
            row = _open_emergency(ws, d.unit_id)
            if row is not None:
                ws.put(EMERGENCY_ISSUES, {**row, "returned_at": event.occurred_at})


def _crossmatched(ws: WorkingSet, e: StoredEvent, d: UnitReserved) -> None:
    """A reservation's crossmatch, or the follow-up crossmatch of an emergency issue."""
    row = _open_emergency(ws, d.unit_id)
    if row is not None:
        if row["crossmatch"] is None:
            ws.put(EMERGENCY_ISSUES, {**row, "crossmatch": d.crossmatch,
                                      "crossmatched_at": e.occurred_at,
                                      "crossmatch_position": e.position})
        return
    ws.put(CROSSMATCHES, {"unit_id": d.unit_id, "patient_id": d.patient_id,
                          "crossmatch": d.crossmatch, "crossmatched_at": e.occurred_at,
                          "position": e.position})


def _no_crossmatch(ws: WorkingSet, unit_id: str) -> None:
    row = ws.get(CROSSMATCHES, unit_id)
    if row is not None and row["crossmatch"] is not None:
        ws.put(CROSSMATCHES, {**row, "patient_id": None, "crossmatch": None,
                              "crossmatched_at": None, "position": None})


def _issued(ws: WorkingSet, e: StoredEvent, d: UnitIssued) -> None:
    site = e.actor.site_id
    if d.emergency:
        # Issued in an emergency after a crossmatch for this patient: it is not
        # uncrossmatched, and the domain takes no second crossmatch on it.
        standing = ws.get(CROSSMATCHES, d.unit_id)
        before = standing if standing is not None and standing["patient_id"] == d.patient_id \
            else None
        ws.put(EMERGENCY_ISSUES, {
            "unit_id": d.unit_id, "position": e.position, "site_id": site,
            "patient_id": d.patient_id, "issued_at": e.occurred_at,
            "crossmatch": before["crossmatch"] if before else None,
            "crossmatched_at": before["crossmatched_at"] if before else None,
            "crossmatch_position": before["position"] if before else None,
            "returned_at": None,
        })
    if d.anti_d_prophylaxis or d.override_reason is not None:
        ws.put(OVERRIDE_ISSUES, {
            "position": e.position, "unit_id": d.unit_id, "site_id": site,
            "patient_id": d.patient_id, "issued_at": e.occurred_at,
            "anti_d_prophylaxis": bool(d.anti_d_prophylaxis),
            "override_reason": d.override_reason,
        })


def _open_emergency(ws: WorkingSet, unit_id: str) -> Row | None:
    """The unit's latest emergency issue not ended by a return, if any."""
    rows = [r for r in ws.find(EMERGENCY_ISSUES, "unit_id", unit_id) if r["returned_at"] is None]
    return max(rows, key=lambda r: r["position"]) if rows else None
