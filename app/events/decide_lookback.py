"""Decisions of lookback and recall.

A lookback starts from a donor (donations collected since ``since``) or from one DIN, finds
every unit derived from those donations through splits and pools, records each with its
custodian or recipient, and quarantines the live ones in the same decision. Sites that hold
or transfused a unit acknowledge it.
"""

from __future__ import annotations

from typing import Any

from app.errors import (
    AlreadyExists,
    DonationNotFound,
    DonorNotFound,
    LookbackAlreadyAcknowledged,
    LookbackNotFound,
    LookbackSiteMismatch,
    LookbackUnitUnknown,
)
from app.events.decide_testing import quarantine_all
from app.events.decision import Decision, unit_refs
from app.events.lineage import units_of
from app.events.messages import Key
from app.events.models_base import dump
from app.events.models_units import LookbackAcknowledged, LookbackStarted
from app.events.state import UnitState, get_donation, get_donor, get_lookback
from app.log.record import parse_time


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
    body = dump(data)
    body["dins"] = dins
    body["units"] = [_found(u) for u in units]
    for din in dins:
        refs.add(("donation", din))
    for u in units:
        refs |= unit_refs(u.unit_id)
    d.emit("LookbackStarted", f"lookback:{data.lookback_id}", body, refs)
    quarantine_all(d, units, f"lookback {data.lookback_id} ({data.marker})")


def _found(unit: UnitState) -> dict[str, Any]:
    row: dict[str, Any] = {
        "unit_id": unit.unit_id, "din": unit.din, "status": unit.status,
        "custodian_site_id": unit.custodian_site_id,
        "quarantined": unit.quarantined or unit.live,
    }
    if unit.in_transit_to is not None:
        row["in_transit_to"] = unit.in_transit_to
    patient = unit.recipient_patient_id or unit.issued_patient_id
    if patient is not None:
        row["patient_id"] = patient
    return row


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
    d.emit("LookbackAcknowledged", f"lookback:{data.lookback_id}", dump(data),
           unit_refs(data.unit_id) | {("lookback", data.lookback_id), ("site", data.site_id)})
