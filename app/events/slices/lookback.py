"""Lookback and recall (RULES §8).

A lookback starts from a donor or from one DIN. From a donor without ``since``, its window
is computed: from the catalogue's window (12 months) before the donor's last non-reactive
screen for the marker. It finds every unit derived from those donations through splits and
pools, records each with its custodian or recipient, holds the live ones in the same
decision, and gets a deadline. Sites that hold or transfused a unit acknowledge it; hospitals
record each recipient they notify; the blood establishment closes it with an outcome.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import model_validator

from app.errors import (
    AlreadyExists,
    DonationNotFound,
    DonorNotFound,
    LookbackAlreadyAcknowledged,
    LookbackAlreadyNotified,
    LookbackItemsOpen,
    LookbackNotFound,
    LookbackOutOfScope,
    LookbackRecipientMismatch,
    LookbackSiteMismatch,
    LookbackUnitUnknown,
    NotCustodian,
)
from app.errors import (
    LookbackClosed as LookbackIsClosed,
)
from app.events import isbt
from app.events.authz import ADMIN, acts_for
from app.events.decision import Decision, unit_refs
from app.events.event_type import Changes, EventType, Need, RawData, reads_din, reads_key, roles
from app.events.fields import Din, Ident, Marker, Pseudonym, Text, Timestamp, UnitId
from app.events.lineage import units_of
from app.events.messages import Event, Key
from app.events.payload import DerivedData, EventData
from app.events.results import CLEAR, marker_status
from app.events.signatures import CLOSE_LOOKBACK, always
from app.events.slices.holds import UNIT_CARE, place_holds
from app.events.slices.sites import collected_or_tests
from app.events.state import (
    DonorState,
    LookbackState,
    World,
    get_donation,
    get_donor,
    get_lookback,
    updated,
)
from app.events.unit import UnitState
from app.log.record import format_time, parse_time

Outcome = Literal["recipients_notified", "donor_confirmed_negative", "recipients_not_traceable"]


class LookbackUnit(EventData):
    """One unit a lookback found, with who holds or received it."""

    unit_id: UnitId
    din: Din
    status: str
    custodian_site_id: str | None = None
    in_transit_to: str | None = None
    patient_id: str | None = None
    quarantined: bool = False


class LookbackStarted(DerivedData):
    """From a donor (donations since ``since``) or one DIN. Enrichment: ``since`` (computed
    when a donor's lookback gives none), ``deadline``, ``dins`` and ``units`` (every unit
    derived through splits and pools, with custodian or recipient). Also derived from a
    confirmatory positive result."""

    lookback_id: Ident
    donor_id: Pseudonym | None = None
    din: Din | None = None
    marker: Marker
    since: Timestamp | None = None
    deadline: Timestamp | None = None
    dins: list[Din] | None = None
    units: list[LookbackUnit] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> LookbackStarted:
        if (self.donor_id is None) == (self.din is None):
            raise ValueError("give exactly one of donor_id or din")
        return self


class LookbackAcknowledged(EventData):
    """A site that held or transfused a unit of a lookback acknowledges it."""

    lookback_id: Ident
    site_id: Ident
    unit_id: UnitId


class LookbackRecipientNotified(EventData):
    """The hospital that transfused a unit of the lookback notified its recipient."""

    lookback_id: Ident
    unit_id: UnitId
    patient_id: Pseudonym


class LookbackClosed(EventData):
    """The blood establishment closes the lookback. ``recipients_notified`` needs every
    recipient notified; ``recipients_not_traceable`` needs a note saying why."""

    lookback_id: Ident
    outcome: Outcome
    note: Text | None = None


def window_since(d: Decision, donor: DonorState, marker: str) -> datetime | None:
    """The catalogue's window before the donor's last non-reactive screen for ``marker``
    (None, every donation, when no earlier screen was clear)."""
    clear = [given.collected_at for given in donor.donations
             if (donation := get_donation(d.world, given.din)) is not None
             and marker_status(donation.results, marker, d.catalogue.repeats_to_resolve) in CLEAR]
    if not clear:
        return None
    return max(clear) - timedelta(days=d.catalogue.lookback_window_days)


def start_lookback(d: Decision, lookback_id: str, marker: str, *,
                   donor: DonorState | None = None, din: str | None = None,
                   since: datetime | None = None, reason: str | None = None,
                   asked: LookbackStarted | None = None) -> None:
    """Find, record and hold every unit of the donor's donations in the window (or of the
    DIN); emitted as asked for, or derived from a confirmatory positive."""
    if get_lookback(d.world, lookback_id) is not None:
        raise AlreadyExists(f"lookback {lookback_id} exists", field="data.lookback_id")
    refs: set[Key] = {("lookback", lookback_id)}
    if donor is not None:
        if since is None:
            since = window_since(d, donor, marker)
        dins = [x.din for x in donor.donations if since is None or x.collected_at >= since]
        refs.add(("donor", donor.donor_id))
    else:
        assert din is not None
        dins = [din]
    start = [u for x in dins if (donation := get_donation(d.world, x)) is not None
             for u in donation.unit_ids]
    units = units_of(d.world, start)
    refs |= {("donation", x) for x in dins}
    for u in units:
        refs |= unit_refs(u.unit_id) | _holders(u)
    base = asked or LookbackStarted(
        lookback_id=lookback_id, marker=marker, donor_id=donor.donor_id if donor else None,
        din=din)
    enriched = base.model_copy(update={
        "since": format_time(since) if since is not None else None,
        "deadline": format_time(d.at + timedelta(days=d.catalogue.lookback_deadline_days)),
        "dins": dins, "units": [_found(u) for u in units]})
    d.emit(enriched, f"lookback:{lookback_id}", refs)
    place_holds(d, units, "lookback", reason or f"lookback {lookback_id} ({marker})")


def _holders(unit: UnitState) -> set[Key]:
    return {("site", s) for s in (unit.custodian_site_id, unit.in_transit_to) if s}


def lookback_started(d: Decision, data: LookbackStarted) -> None:
    """A lookback asked for by the blood establishment that collected one of the donations
    (or a lab serving it), or by a national key; from a donor or a DIN."""
    if data.donor_id is not None:
        donor = get_donor(d.world, data.donor_id)
        if donor is None:
            raise DonorNotFound(f"donor {data.donor_id} is not registered",
                                field="data.donor_id")
        _in_scope(d, [x.din for x in donor.donations], "data.donor_id")
        start_lookback(d, data.lookback_id, data.marker, donor=donor, asked=data,
                       since=parse_time(data.since) if data.since is not None else None)
        return
    assert data.din is not None  # the model requires exactly one of donor_id and din
    if get_donation(d.world, data.din) is None:
        raise DonationNotFound(f"no donation with DIN {data.din}", field="data.din")
    _in_scope(d, [data.din], "data.din")
    start_lookback(d, data.lookback_id, data.marker, din=data.din, asked=data,
                   since=parse_time(data.since) if data.since is not None else None)


def _in_scope(d: Decision, dins: list[str], field: str) -> None:
    """The acting site collected one of the donations, or tests for its collection site."""
    if d.cmd.actor.role == ADMIN or collected_or_tests(d.world, d.cmd.actor.site_id, dins):
        return
    raise LookbackOutOfScope(
        "a lookback is started by the site that collected the donation, or its lab",
        field=field)


def _found(unit: UnitState) -> LookbackUnit:
    return LookbackUnit(
        unit_id=unit.unit_id, din=unit.din, status=unit.status,
        custodian_site_id=unit.custodian_site_id, in_transit_to=unit.in_transit_to,
        patient_id=unit.recipient_patient_id or unit.issued_patient_id,
        quarantined=unit.quarantined or unit.live,
    )


def _open_lookback(d: Decision, lookback_id: str) -> LookbackState:
    lookback = get_lookback(d.world, lookback_id)
    if lookback is None:
        raise LookbackNotFound(f"lookback {lookback_id} does not exist",
                               field="data.lookback_id")
    if lookback.closed_at is not None:
        raise LookbackIsClosed(f"lookback {lookback_id} was closed ({lookback.outcome})",
                               field="data.lookback_id")
    return lookback


def _sites_of(lookback: LookbackState, unit_id: str) -> tuple[str, ...]:
    sites = lookback.units.get(unit_id)
    if sites is None:
        raise LookbackUnitUnknown(f"unit {unit_id} is not in lookback {lookback.lookback_id}",
                                  field="data.unit_id")
    return sites


def lookback_acknowledged(d: Decision, data: LookbackAcknowledged) -> None:
    """A listed site acknowledges a unit of the lookback, once."""
    lookback = _open_lookback(d, data.lookback_id)
    sites = _sites_of(lookback, data.unit_id)
    d.site(data.site_id, "data.site_id")
    if data.site_id not in sites:
        raise LookbackSiteMismatch(
            f"unit {data.unit_id} was with {', '.join(sites) or 'no site'}", field="data.site_id"
        )
    if data.site_id in lookback.acknowledged.get(data.unit_id, ()):
        raise LookbackAlreadyAcknowledged(
            f"{data.site_id} already acknowledged {data.unit_id}", field="data.unit_id"
        )
    d.emit(data, f"lookback:{data.lookback_id}",
           unit_refs(data.unit_id) | {("lookback", data.lookback_id), ("site", data.site_id)})


def recipient_notified(d: Decision, data: LookbackRecipientNotified) -> None:
    """The hospital holding the unit's record notifies its recipient, once."""
    lookback = _open_lookback(d, data.lookback_id)
    sites = _sites_of(lookback, data.unit_id)
    if lookback.patients.get(data.unit_id) != data.patient_id:
        raise LookbackRecipientMismatch(
            f"unit {data.unit_id} of lookback {data.lookback_id} did not go to this patient",
            field="data.patient_id")
    if not any(acts_for(d.cmd.actor, s) for s in sites):
        raise NotCustodian(f"unit {data.unit_id} is another site's to notify",
                           field="data.unit_id")
    if data.patient_id in lookback.notified.get(data.unit_id, ()):
        raise LookbackAlreadyNotified(f"the recipient of {data.unit_id} was already notified",
                                      field="data.patient_id")
    d.emit(data, f"lookback:{data.lookback_id}", unit_refs(data.unit_id) | {
        ("lookback", data.lookback_id), ("patient", data.patient_id)})


def lookback_closed(d: Decision, data: LookbackClosed) -> None:
    """The site that started the lookback closes it, with an outcome its state supports."""
    lookback = _open_lookback(d, data.lookback_id)
    if not (acts_for(d.cmd.actor, lookback.started_by) or collected_or_tests(
            d.world, d.cmd.actor.site_id, {isbt.din_of_unit(u) for u in lookback.units})):
        raise LookbackOutOfScope(
            f"lookback {data.lookback_id} is closed by the site that started it, or the "
            "site that collected its donations", field="data.lookback_id")
    if data.outcome == "recipients_notified":
        waiting = sorted(u for u, p in lookback.patients.items()
                         if p not in lookback.notified.get(u, ()))
        if waiting:
            raise LookbackItemsOpen(
                f"recipients of {', '.join(waiting)} are not notified yet", field="data.outcome",
                units=waiting)
    if data.outcome == "recipients_not_traceable" and data.note is None:
        raise LookbackItemsOpen("say why the recipients cannot be traced", field="data.note")
    d.emit(data, f"lookback:{data.lookback_id}", {("lookback", data.lookback_id)})


def _started(world: World, e: Event, data: LookbackStarted) -> Changes:
    units: dict[str, tuple[str, ...]] = {}
    patients: dict[str, str] = {}
    for row in data.units or ():
        units[row.unit_id] = tuple(s for s in (row.custodian_site_id, row.in_transit_to) if s)
        if row.patient_id is not None and row.status == "transfused":
            patients[row.unit_id] = row.patient_id
    return {("lookback", data.lookback_id): LookbackState(
        lookback_id=data.lookback_id, started_by=e.actor.site_id, units=units,
        patients=patients, deadline=parse_time(data.deadline) if data.deadline else None)}


def _acknowledged(world: World, e: Event, data: LookbackAcknowledged) -> Changes:
    lookback = get_lookback(world, data.lookback_id)
    if lookback is None:
        return {}
    done = lookback.acknowledged.get(data.unit_id, ())
    return {("lookback", lookback.lookback_id): updated(lookback, {
        "acknowledged": {**lookback.acknowledged, data.unit_id: (*done, data.site_id)}})}


def _notified(world: World, e: Event, data: LookbackRecipientNotified) -> Changes:
    lookback = get_lookback(world, data.lookback_id)
    if lookback is None:
        return {}
    done = lookback.notified.get(data.unit_id, ())
    return {("lookback", lookback.lookback_id): updated(lookback, {
        "notified": {**lookback.notified, data.unit_id: (*done, data.patient_id)}})}


def _closed(world: World, e: Event, data: LookbackClosed) -> Changes:
    lookback = get_lookback(world, data.lookback_id)
    if lookback is None:
        return {}
    return {("lookback", lookback.lookback_id): updated(lookback, {
        "closed_at": e.occurred_at, "outcome": data.outcome})}


def _reads_start(data: RawData) -> list[Need]:
    return (reads_key("lookback", data.get("lookback_id"))
            + reads_key("donor", data.get("donor_id"), deep=True) + reads_din(data, deep=True))


def _reads_lookback(data: RawData) -> list[Need]:
    return reads_key("lookback", data.get("lookback_id"))


BLOOD_ESTABLISHMENT = roles("lab", "processing")
TYPES = (
    EventType(LookbackStarted, _started, lookback_started, BLOOD_ESTABLISHMENT,
              _reads_start, {"lookback_id": "LB-2026-0007", "donor_id": "DNR-7QX2K9",
                             "marker": "HCV"}),
    EventType(LookbackAcknowledged, _acknowledged, lookback_acknowledged, UNIT_CARE,
              _reads_lookback, {"lookback_id": "LB-2026-0007", "site_id": "H-DAM-01",
                                "unit_id": "A999926123456-E0398V00"}),
    EventType(LookbackRecipientNotified, _notified, recipient_notified, roles("hospital"),
              _reads_lookback, {"lookback_id": "LB-2026-0007",
                                "unit_id": "A999926123456-E0398V00", "patient_id": "PAT-4F7Q2"}),
    EventType(LookbackClosed, _closed, lookback_closed, BLOOD_ESTABLISHMENT, _reads_lookback,
              {"lookback_id": "LB-2026-0007", "outcome": "recipients_notified"},
              signs=always(CLOSE_LOOKBACK)),
)
