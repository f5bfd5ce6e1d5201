"""Decisions of testing, release and quarantine.

A reactive mandatory marker quarantines, in the same decision, every live unit of the
donation and every unit derived from them (through splits and pools), and defers the donor
permanently. Live units include those in transit and those issued but not yet transfused:
a recall must reach them too.
"""

from __future__ import annotations

from app.errors import (
    DonationNotFound,
    GroupDiscrepancy,
    PoolMixedGroups,
    ReactiveMarker,
    TestsIncomplete,
    UnitAlreadyReleased,
    UnitNotQuarantined,
    UnitQuarantinedError,
)
from app.events.decision import Decision, unit_refs
from app.events.lineage import units_of
from app.events.models import TestResultRecorded, UnitReleased
from app.events.models_base import dump, own
from app.events.models_units import QuarantineLifted, UnitQuarantined
from app.events.state import UnitState, World, get_donation, get_donor
from app.log.record import format_time

LAB_SITE_KINDS = ("lab", "blood_bank")


def lab_result_recorded(d: Decision, data: TestResultRecorded) -> None:
    """A lab's result for one marker of a donation; the lab needs no custody of the units."""
    d.site(data.lab_site_id, "data.lab_site_id", LAB_SITE_KINDS)
    donation = get_donation(d.world, data.din)
    if donation is None:
        raise DonationNotFound(f"no donation with DIN {data.din}", field="data.din")
    earlier = donation.tests.get(data.marker)
    if data.marker in ("ABO", "RHD") and earlier is not None and earlier != data.result:
        raise GroupDiscrepancy(
            f"{data.marker} of {data.din} was {earlier}, now {data.result}: investigate",
            field="data.result", earlier=earlier,
        )
    refs = {("donation", data.din), ("site", data.lab_site_id)}
    if donation.donor_id is not None:
        refs.add(("donor", donation.donor_id))
    d.emit("TestResultRecorded", f"donation:{data.din}", dump(data), refs)
    if data.result != "reactive" or data.marker not in d.catalogue.infectious_markers:
        return
    reason = f"reactive {data.marker} on donation {data.din}"
    quarantine_all(d, units_of(d.world, donation.unit_ids), reason)
    donor = get_donor(d.world, donation.donor_id) if donation.donor_id else None
    if donor is not None and not (donor.deferred and donor.deferred_until is None):
        d.emit("DonorDeferred", f"donor:{donor.donor_id}",
               {"donor_id": donor.donor_id, "reason": reason}, {("donor", donor.donor_id)})


def quarantine_all(d: Decision, units: list[UnitState], reason: str) -> None:
    """Derived quarantines for every live unit not quarantined yet."""
    for unit in units:
        if unit.live and not unit.quarantined:
            d.emit("UnitQuarantined", unit.unit_id, {"unit_id": unit.unit_id, "reason": reason},
                   unit_refs(unit.unit_id))


def unit_released(d: Decision, data: UnitReleased) -> None:
    """Only with every mandatory marker non-reactive and ABO/RhD determined, in date."""
    unit = d.workable(data.unit_id)
    if unit.released:
        raise UnitAlreadyReleased(f"unit {unit.unit_id} is already released",
                                  field="data.unit_id")
    if unit.quarantined:
        raise UnitQuarantinedError(
            f"unit {unit.unit_id} is quarantined: {unit.quarantine_reason}", field="data.unit_id"
        )
    d.in_date(unit)
    abo, rhd = release_group(d, unit)
    body = {"unit_id": unit.unit_id, "abo": abo, "rhd": rhd, "category": unit.category,
            "expires_at": format_time(unit.expires_at)}
    d.emit("UnitReleased", unit.unit_id, body, unit_refs(unit.unit_id))


def release_group(d: Decision, unit: UnitState) -> tuple[str, str]:
    """The unit's ABO/RhD once every source donation passed every mandatory test."""
    groups: set[tuple[str, str]] = set()
    for din in unit.source_dins:
        donation = get_donation(d.world, din)
        tests = donation.tests if donation is not None else {}
        reactive = donation.reactive if donation is not None else ()
        for marker in d.catalogue.infectious_markers:
            if marker in reactive:
                raise ReactiveMarker(f"{marker} is reactive on donation {din}",
                                     field="data.unit_id", din=din, marker=marker)
            if tests.get(marker) != "non_reactive":
                raise TestsIncomplete(
                    f"{marker} on donation {din} is {tests.get(marker, 'not tested')}",
                    field="data.unit_id", din=din, marker=marker,
                )
        abo, rhd = tests.get("ABO"), tests.get("RHD")
        if abo is None or rhd is None:
            raise TestsIncomplete(f"ABO/RhD of donation {din} is not determined",
                                  field="data.unit_id", din=din)
        groups.add((abo, rhd))
    if len(groups) != 1:
        raise PoolMixedGroups(f"the pool {unit.unit_id} mixes ABO/RhD groups",
                              field="data.unit_id")
    return groups.pop()


def known_group(world: World, unit: UnitState) -> tuple[str, str] | None:
    """The unit's ABO/RhD if known (released, or tested on its one source donation)."""
    if unit.abo is not None and unit.rhd is not None:
        return unit.abo, unit.rhd
    if len(unit.source_dins) != 1:
        return None
    donation = get_donation(world, unit.source_dins[0])
    if donation is None:
        return None
    abo, rhd = donation.tests.get("ABO"), donation.tests.get("RHD")
    return (abo, rhd) if abo is not None and rhd is not None else None


def unit_quarantined(d: Decision, data: UnitQuarantined) -> None:
    """Quarantine a live unit, with a reason; not twice."""
    unit = d.workable(data.unit_id)
    if unit.quarantined:
        raise UnitQuarantinedError(
            f"unit {unit.unit_id} is already quarantined: {unit.quarantine_reason}",
            field="data.unit_id",
        )
    d.emit("UnitQuarantined", unit.unit_id, own(data), unit_refs(unit.unit_id))


def quarantine_lifted(d: Decision, data: QuarantineLifted) -> None:
    """Lifting needs a reason and is refused while a source donation is reactive."""
    unit = d.workable(data.unit_id)
    if not unit.quarantined:
        raise UnitNotQuarantined(f"unit {unit.unit_id} is not quarantined", field="data.unit_id")
    for din in unit.source_dins:
        donation = get_donation(d.world, din)
        if donation is not None and donation.reactive:
            raise ReactiveMarker(
                f"donation {din} is reactive for {', '.join(donation.reactive)}",
                field="data.unit_id", din=din,
            )
    d.emit("QuarantineLifted", unit.unit_id, dump(data), unit_refs(unit.unit_id))
