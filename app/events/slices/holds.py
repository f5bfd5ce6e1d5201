"""Holds: quarantine per cause, and lifting one hold at a time (RULES §2).

A unit may have several holds at once; it stays held while any is open. The rules place
holds of their own (a reactive test, a discordant group, a lookback, post-donation
information, an adverse reaction, a temperature excursion, a refused receipt) in the same
decision as their cause. Who may lift a hold depends on its cause: the blood establishment
lifts its own (test, abo_discrepancy, lookback, post_donation_information, adverse_reaction,
recall), a test or group hold only once its result is resolved; the custodian lifts the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from app.errors import (
    DomainError,
    HoldCauseDerived,
    HoldIdRequired,
    HoldLiftNotAllowed,
    HoldNotFound,
    HoldUnresolved,
)
from app.events.authz import ADMIN
from app.events.decision import Decision, unit_refs
from app.events.event_type import EventType, on_unit, roles
from app.events.fields import Din, Ident, Marker, Text, UnitId
from app.events.messages import Event
from app.events.payload import DerivedData, construct
from app.events.results import CLEAR, donation_typing, marker_status
from app.events.signatures import LIFT_HOLD
from app.events.state import World, get_donation, get_site, get_unit, updated
from app.events.unit import BLOOD_ESTABLISHMENT_CAUSES, Hold, HoldCause, UnitState

UNIT_CARE = roles("processing", "inventory", "hospital")
"""The roles of every site that holds units and looks after them."""
BLOOD_ESTABLISHMENT: Final = frozenset({"processing", ADMIN})
BLOOD_ESTABLISHMENT_SITES: Final = frozenset({"blood_bank"})
DERIVED_ONLY: Final[frozenset[HoldCause]] = frozenset({
    "test", "abo_discrepancy", "lookback", "receipt"})
"""Causes only the rules place: asked for by hand they would bypass the result or the
lookback that must justify them."""


class UnitQuarantined(DerivedData):
    """The unit is held for ``cause``: not released, reserved, issued or transfused while
    the hold is open. Enrichment: ``hold_id`` (the event's id when absent); ``marker`` and
    ``din`` for a hold placed by a test result."""

    unit_id: UnitId
    reason: Text
    cause: HoldCause = "manual"
    hold_id: Ident | None = None
    marker: Marker | None = None
    din: Din | None = None


class QuarantineLifted(DerivedData):
    """One hold ends, with a reason. ``hold_id`` is required when the unit has more than one
    open hold; the domain lifts a test or group hold itself once the result is resolved."""

    unit_id: UnitId
    reason: Text
    hold_id: Ident | None = None


def place_holds(d: Decision, units: Iterable[UnitState], cause: HoldCause, reason: str,
                marker: str | None = None, din: str | None = None) -> None:
    """Derived holds for every live unit that has no open hold of this cause (and marker and
    donation) yet."""
    for unit in units:
        if not unit.live or any(h.open and (h.cause, h.marker, h.din) == (cause, marker, din)
                                for h in unit.holds):
            continue
        d.emit(UnitQuarantined(unit_id=unit.unit_id, reason=reason, cause=cause,
                               hold_id=str(d.next_event_id()), marker=marker, din=din),
               unit.unit_id, unit_refs(unit.unit_id) | _holders(unit))


def lift_holds(d: Decision, units: Iterable[UnitState], cause: HoldCause, reason: str,
               marker: str | None = None, din: str | None = None) -> None:
    """Derived lifts of every open hold of this cause (and marker and donation) on live
    units (a consumed or final unit never changes again)."""
    for unit in units:
        if not unit.live:
            continue
        for hold in unit.holds:
            if hold.open and (hold.cause, hold.marker, hold.din) == (cause, marker, din):
                d.emit(QuarantineLifted(unit_id=unit.unit_id, reason=reason,
                                        hold_id=hold.hold_id),
                       unit.unit_id, unit_refs(unit.unit_id) | _holders(unit))


def _holders(unit: UnitState) -> set[tuple[str, str]]:
    """The sites that must see a hold in their feed: the custodian and the destination."""
    return {("site", s) for s in (unit.custodian_site_id, unit.in_transit_to) if s}


def unit_quarantined(d: Decision, data: UnitQuarantined) -> None:
    """Hold a live unit for a cause a person may give (manual, temperature, recall...)."""
    unit = d.workable(data.unit_id)
    if data.cause in DERIVED_ONLY or data.marker is not None or data.din is not None:
        raise HoldCauseDerived(f"a {data.cause} hold is placed by the rules, not by hand",
                               field="data.cause")
    hold_id = data.hold_id or str(d.next_event_id())
    if unit.hold(hold_id) is not None:
        raise HoldCauseDerived(f"unit {unit.unit_id} already has hold {hold_id}",
                               field="data.hold_id")
    d.emit(data.model_copy(update={"hold_id": hold_id}), unit.unit_id, unit_refs(unit.unit_id))


def quarantine_lifted(d: Decision, data: QuarantineLifted) -> None:
    """Lift one open hold: named, allowed to this role, and resolved when it is a test's."""
    unit = d.workable(data.unit_id)
    hold = _the_hold(unit, data.hold_id)
    if hold.cause in BLOOD_ESTABLISHMENT_CAUSES and not _blood_establishment(d):
        raise HoldLiftNotAllowed(
            f"a {hold.cause} hold is lifted by the blood establishment (the processing key "
            f"of a blood bank), not a {d.cmd.actor.role} key of {d.cmd.actor.site_id}",
            field="data.hold_id")
    _resolved(d, hold)
    d.emit(data.model_copy(update={"hold_id": hold.hold_id}), unit.unit_id,
           unit_refs(unit.unit_id))


def _blood_establishment(d: Decision) -> bool:
    """An admin, or a processing key of a blood bank: a hospital's own processing (thawing,
    irradiating) may not clear a hold the blood establishment placed."""
    actor = d.cmd.actor
    if actor.role == ADMIN:
        return True
    site = get_site(d.world, actor.site_id) if actor.site_id is not None else None
    return actor.role in BLOOD_ESTABLISHMENT and site is not None and (
        site.site_kind in BLOOD_ESTABLISHMENT_SITES)


def _lift_signed(world: World, data: QuarantineLifted) -> str | None:
    """Lifting a blood-establishment hold is signed; a custodian's own hold is not."""
    unit = get_unit(world, data.unit_id)
    try:
        hold = _the_hold(unit, data.hold_id) if unit is not None else None
    except DomainError:  # no such hold: decide refuses the lift with its own rule
        return None
    return LIFT_HOLD if hold is not None and hold.cause in BLOOD_ESTABLISHMENT_CAUSES else None


def _the_hold(unit: UnitState, hold_id: str | None) -> Hold:
    open_holds = unit.open_holds
    if hold_id is None:
        if len(open_holds) > 1:
            raise HoldIdRequired(
                f"unit {unit.unit_id} has {len(open_holds)} open holds: "
                + ", ".join(f"{h.hold_id} ({h.cause})" for h in open_holds),
                field="data.hold_id")
        if not open_holds:
            raise HoldNotFound(f"unit {unit.unit_id} has no open hold", field="data.unit_id")
        return open_holds[0]
    found = unit.hold(hold_id)
    if found is None or not found.open:
        raise HoldNotFound(f"unit {unit.unit_id} has no open hold {hold_id}",
                           field="data.hold_id")
    return found


def _resolved(d: Decision, hold: Hold) -> None:
    """A test or group hold is lifted only once its result says the unit is clear."""
    if hold.cause not in ("test", "abo_discrepancy") or hold.din is None or hold.marker is None:
        return
    donation = get_donation(d.world, hold.din)
    if donation is None:
        return
    if hold.cause == "test":
        status = marker_status(donation.results, hold.marker, d.catalogue.repeats_to_resolve)
        if status not in CLEAR:
            raise HoldUnresolved(f"{hold.marker} on donation {hold.din} is {status}",
                                 field="data.hold_id", marker=hold.marker, din=hold.din)
    elif not donation_typing(donation, hold.marker).determined:
        raise HoldUnresolved(f"{hold.marker} of donation {hold.din} is discrepant",
                             field="data.hold_id", marker=hold.marker, din=hold.din)


def _quarantined(u: UnitState, e: Event, data: UnitQuarantined) -> UnitState:
    hold = construct(Hold, dict(
        hold_id=data.hold_id or str(e.event_id), cause=data.cause, reason=data.reason,
        since=e.occurred_at, marker=data.marker, din=data.din))
    return updated(u, {"holds": (*u.holds, hold)})


def _lifted(u: UnitState, e: Event, data: QuarantineLifted) -> UnitState:
    target = data.hold_id or next((h.hold_id for h in u.holds if h.open), None)
    holds = tuple(
        updated(h, {"lifted_at": e.occurred_at, "lifted_reason": data.reason})
        if h.hold_id == target and h.open else h for h in u.holds)
    return updated(u, {"holds": holds})


_UNIT = "A999926123456-E0398V00"
TYPES = (
    EventType(UnitQuarantined, on_unit(_quarantined), unit_quarantined,
              UNIT_CARE | {"collector"},
              example={"unit_id": _UNIT, "reason": "bag leaking at the seal", "cause": "manual"}),
    EventType(QuarantineLifted, on_unit(_lifted), quarantine_lifted, UNIT_CARE,
              example={"unit_id": _UNIT, "reason": "seal inspected, intact",
                       "hold_id": "0f0c8d1e-8c3a-5b7e-9d1a-2b6f4c3e1a90"},
              signs=_lift_signed),
)
