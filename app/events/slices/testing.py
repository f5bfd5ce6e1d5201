"""Testing and release.

Results are recorded per marker, by a lab, on the donation (DIN): the lab needs no custody of
the units. A reactive mandatory marker quarantines, in the same decision, every live unit of
the donation and every unit derived from them (through splits and pools), and defers the donor
permanently. Live units include those in transit and those issued but not yet transfused: a
recall must reach them too. Release needs every mandatory marker non-reactive and ABO/RhD
determined.
"""

from __future__ import annotations

from typing import Any

from pydantic import model_validator

from app.errors import (
    DonationNotFound,
    GroupDiscrepancy,
    PoolMixedGroups,
    ReactiveMarker,
    TestsIncomplete,
    UnitAlreadyReleased,
    UnitQuarantinedError,
)
from app.events import isbt
from app.events.catalogue import Category
from app.events.decision import Decision, unit_refs
from app.events.event_type import Changes, EventType, Need, RawData, on_unit, reads_din, roles
from app.events.fields import AboGroup, Din, Ident, Marker, RhdType, Timestamp, UnitId
from app.events.lineage import units_of
from app.events.messages import Event
from app.events.payload import EventData, TestResult
from app.events.slices.donors import DonorDeferred
from app.events.slices.holds import quarantine_all
from app.events.state import World, get_donation, get_donor, get_unit
from app.events.unit import UnitState
from app.log.record import format_time

LAB_SITE_KINDS = ("lab", "blood_bank")
GROUP_MARKERS = ("ABO", "RHD")


class TestResultRecorded(EventData):
    """One marker's result for a donation. ABO results are O/A/B/AB, RHD results POS/NEG
    (ISBT codes and +/- accepted), the others reactive/non_reactive/indeterminate."""

    __test__ = False  # a model, not a pytest class

    din: Din
    marker: Marker
    result: TestResult
    lab_site_id: Ident

    @model_validator(mode="before")
    @classmethod
    def _normalise_result(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        marker = str(raw.get("marker", "")).strip().upper()
        result = raw.get("result")
        if marker == "ABO":
            return {**raw, "result": isbt.parse_abo(result, "data.result")}
        if marker == "RHD":
            return {**raw, "result": isbt.parse_rhd(result, "data.result")}
        if isinstance(result, str) and result.strip().lower() in (
            "reactive", "non_reactive", "indeterminate"
        ):
            return {**raw, "result": result.strip().lower()}
        return raw

    @model_validator(mode="after")
    def _result_fits_marker(self) -> TestResultRecorded:
        if self.marker not in GROUP_MARKERS and self.result not in (
            "reactive", "non_reactive", "indeterminate"
        ):
            raise ValueError(f"{self.marker} results are reactive, non_reactive or indeterminate")
        return self


class UnitReleased(EventData):
    """Enrichment: ``abo``, ``rhd``, ``category`` and ``expires_at`` of the released unit."""

    unit_id: UnitId
    abo: AboGroup | None = None
    rhd: RhdType | None = None
    category: Category | None = None
    expires_at: Timestamp | None = None


def lab_result_recorded(d: Decision, data: TestResultRecorded) -> None:
    """A lab's result for one marker of a donation; the lab needs no custody of the units."""
    d.site(data.lab_site_id, "data.lab_site_id", LAB_SITE_KINDS)
    donation = get_donation(d.world, data.din)
    if donation is None:
        raise DonationNotFound(f"no donation with DIN {data.din}", field="data.din")
    earlier = donation.tests.get(data.marker)
    if data.marker in GROUP_MARKERS and earlier is not None and earlier != data.result:
        raise GroupDiscrepancy(
            f"{data.marker} of {data.din} was {earlier}, now {data.result}: investigate",
            field="data.result", earlier=earlier,
        )
    refs = {("donation", data.din), ("site", data.lab_site_id)}
    if donation.donor_id is not None:
        refs.add(("donor", donation.donor_id))
    d.emit(data, f"donation:{data.din}", refs)
    if data.result != "reactive" or data.marker not in d.catalogue.infectious_markers:
        return
    reason = f"reactive {data.marker} on donation {data.din}"
    quarantine_all(d, units_of(d.world, donation.unit_ids), reason)
    donor = get_donor(d.world, donation.donor_id) if donation.donor_id else None
    if donor is not None and not (donor.deferred and donor.deferred_until is None):
        d.emit(DonorDeferred(donor_id=donor.donor_id, reason=reason),
               f"donor:{donor.donor_id}", {("donor", donor.donor_id)})


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
    released = UnitReleased.model_validate({
        "unit_id": unit.unit_id, "abo": abo, "rhd": rhd, "category": unit.category,
        "expires_at": format_time(unit.expires_at)})
    d.emit(released, unit.unit_id, unit_refs(unit.unit_id))


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
    """The unit's ABO/RhD if known (typed on its donation, or its pool's common group)."""
    if unit.abo is not None and unit.rhd is not None:
        return unit.abo, unit.rhd
    return None


def _tested(world: World, e: Event, data: TestResultRecorded) -> Changes:
    donation = get_donation(world, data.din)
    if donation is None:
        return {}
    marker, result = data.marker, data.result
    update: dict[str, Any] = {"tests": {**donation.tests, marker: result}}
    if result == "reactive" and marker not in donation.reactive:
        update["reactive"] = (*donation.reactive, marker)
    changes: Changes = {("donation", donation.din): donation.model_copy(update=update)}
    if marker in GROUP_MARKERS:
        # The live units bearing this DIN show the group as typed, before release confirms
        # it; a consumed or final unit never changes again.
        name = "abo" if marker == "ABO" else "rhd"
        for unit_id in donation.unit_ids:
            unit = get_unit(world, unit_id)
            if unit is not None and unit.live:
                changes[("unit", unit_id)] = unit.model_copy(update={name: result})
    return changes


def _released(u: UnitState, e: Event, data: UnitReleased) -> UnitState:
    update: dict[str, Any] = {"released": True}
    if data.abo is not None:
        update["abo"] = data.abo
    if data.rhd is not None:
        update["rhd"] = data.rhd
    return u.model_copy(update=update)


def _reads_result(data: RawData) -> list[Need]:
    # A reactive result reaches every derived unit; a group result every unit of the DIN.
    marker = str(data.get("marker", "")).strip().upper()
    reactive = str(data.get("result", "")).strip().lower() == "reactive"
    return reads_din(data, deep=reactive or marker in GROUP_MARKERS)


TYPES = (
    EventType(TestResultRecorded, _tested, lab_result_recorded, roles("lab"), _reads_result,
              {"din": "A999926123456", "marker": "HIV", "result": "non_reactive",
               "lab_site_id": "LAB-DAM-01"}),
    EventType(UnitReleased, on_unit(_released), unit_released, roles("processing"),
              example={"unit_id": "A999926123456-E0398V00"}),
)
