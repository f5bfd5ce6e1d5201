"""Lookback and recall.

A lookback starts from a donor (donations collected since ``since``) or from one DIN, finds
every unit derived from those donations through splits and pools, records each with its
custodian or recipient, and quarantines the live ones in the same decision. Sites that hold
or transfused a unit acknowledge it.
"""

from __future__ import annotations

from pydantic import model_validator

from app.errors import (
    AlreadyExists,
    DonationNotFound,
    DonorNotFound,
    LookbackAlreadyAcknowledged,
    LookbackNotFound,
    LookbackSiteMismatch,
    LookbackUnitUnknown,
)
from app.events.decision import Decision, unit_refs
from app.events.event_type import Changes, EventType, Need, RawData, reads_din, reads_key, roles
from app.events.fields import Din, Ident, Marker, Pseudonym, Timestamp, UnitId
from app.events.lineage import units_of
from app.events.messages import Event, Key
from app.events.payload import EventData
from app.events.slices.holds import UNIT_CARE, quarantine_all
from app.events.state import LookbackState, World, get_donation, get_donor, get_lookback
from app.events.unit import UnitState
from app.log.record import parse_time


class LookbackUnit(EventData):
    """One unit a lookback found, with who holds or received it."""

    unit_id: UnitId
    din: Din
    status: str
    custodian_site_id: str | None = None
    in_transit_to: str | None = None
    patient_id: str | None = None
    quarantined: bool = False


class LookbackStarted(EventData):
    """From a donor (donations since ``since``) or one DIN. Enrichment: ``dins`` and
    ``units`` (every unit derived through splits and pools, with custodian or recipient)."""

    lookback_id: Ident
    donor_id: Pseudonym | None = None
    din: Din | None = None
    marker: Marker
    since: Timestamp | None = None
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


def lookback_started(d: Decision, data: LookbackStarted) -> None:
    """Find, record and quarantine every unit of the donor's (or the DIN's) donations."""
    if get_lookback(d.world, data.lookback_id) is not None:
        raise AlreadyExists(f"lookback {data.lookback_id} exists", field="data.lookback_id")
    refs: set[Key] = {("lookback", data.lookback_id)}
    if data.donor_id is not None:
        donor = get_donor(d.world, data.donor_id)
        if donor is None:
            raise DonorNotFound(f"donor {data.donor_id} is not registered",
                                field="data.donor_id")
        since = parse_time(data.since) if data.since is not None else None
        dins = [x.din for x in donor.donations if since is None or x.collected_at >= since]
        refs.add(("donor", data.donor_id))
    else:
        assert data.din is not None  # the model requires exactly one of donor_id and din
        if get_donation(d.world, data.din) is None:
            raise DonationNotFound(f"no donation with DIN {data.din}", field="data.din")
        dins = [data.din]
    start: list[str] = []
    for din in dins:
        donation = get_donation(d.world, din)
        if donation is not None:
            start.extend(donation.unit_ids)
    units = units_of(d.world, start)
    for din in dins:
        refs.add(("donation", din))
    for u in units:
        refs |= unit_refs(u.unit_id)
    enriched = data.model_copy(update={"dins": dins, "units": [_found(u) for u in units]})
    d.emit(enriched, f"lookback:{data.lookback_id}", refs)
    quarantine_all(d, units, f"lookback {data.lookback_id} ({data.marker})")


def _found(unit: UnitState) -> LookbackUnit:
    return LookbackUnit(
        unit_id=unit.unit_id, din=unit.din, status=unit.status,
        custodian_site_id=unit.custodian_site_id, in_transit_to=unit.in_transit_to,
        patient_id=unit.recipient_patient_id or unit.issued_patient_id,
        quarantined=unit.quarantined or unit.live,
    )


def lookback_acknowledged(d: Decision, data: LookbackAcknowledged) -> None:
    """A listed site acknowledges a unit of the lookback, once."""
    lookback = get_lookback(d.world, data.lookback_id)
    if lookback is None:
        raise LookbackNotFound(f"lookback {data.lookback_id} does not exist",
                               field="data.lookback_id")
    sites = lookback.units.get(data.unit_id)
    if sites is None:
        raise LookbackUnitUnknown(f"unit {data.unit_id} is not in lookback {data.lookback_id}",
                                  field="data.unit_id")
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


def _started(world: World, e: Event, data: LookbackStarted) -> Changes:
    units: dict[str, tuple[str, ...]] = {}
    for row in data.units or ():
        units[row.unit_id] = tuple(s for s in (row.custodian_site_id, row.in_transit_to) if s)
    return {("lookback", data.lookback_id): LookbackState(
        lookback_id=data.lookback_id, units=units)}


def _acknowledged(world: World, e: Event, data: LookbackAcknowledged) -> Changes:
    lookback = get_lookback(world, data.lookback_id)
    if lookback is None:
        return {}
    done = lookback.acknowledged.get(data.unit_id, ())
    return {("lookback", lookback.lookback_id): lookback.model_copy(update={
        "acknowledged": {**lookback.acknowledged, data.unit_id: (*done, data.site_id)}})}


def _reads_start(data: RawData) -> list[Need]:
    return (reads_key("lookback", data.get("lookback_id"))
            + reads_key("donor", data.get("donor_id"), deep=True) + reads_din(data, deep=True))


def _reads_ack(data: RawData) -> list[Need]:
    return reads_key("lookback", data.get("lookback_id"))


TYPES = (
    EventType(LookbackStarted, _started, lookback_started, roles("lab", "processing"),
              _reads_start, {"lookback_id": "LB-2026-0007", "donor_id": "DNR-7QX2K9",
                             "marker": "HCV", "since": "2025-06-01"}),
    EventType(LookbackAcknowledged, _acknowledged, lookback_acknowledged, UNIT_CARE,
              _reads_ack, {"lookback_id": "LB-2026-0007", "site_id": "H-DAM-01",
                           "unit_id": "A999926123456-E0398V00"}),
)
