"""Testing and release (RULES §3).

Results are recorded per marker, by a lab, on the donation (DIN): the lab needs no custody of
the units. Every result is kept, and its consequences are decided in the same decision:

- an initially reactive screen holds every live unit of the donation (through splits and
  pools) for that marker; the catalogue's number of non-reactive repeats lifts the hold;
- a repeat reactive makes the marker repeatedly reactive: the units are never released, and
  the donor is deferred pending confirmation; a confirmatory positive makes the deferral
  permanent and starts a lookback on the donor's earlier donations;
- an ABO/RhD result that disagrees with an earlier one, or with the donor's known group, is
  recorded and holds the units until a confirmatory result settles the group.

Release needs every mandatory marker of the unit's category clear, no infectious marker open
on any source donation (or the pool's own DIN), ABO/RhD determined, no open hold, in date.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from pydantic import model_validator

from app.errors import (
    DonationNotFound,
    GroupUndetermined,
    LabNotServing,
    PoolMixedGroups,
    ReactiveMarker,
    TestsIncomplete,
    UnitAlreadyReleased,
    UnitQuarantinedError,
    UnknownMarker,
)
from app.events import isbt
from app.events.catalogue import Catalogue, Category
from app.events.decision import Decision, unit_refs
from app.events.event_type import Changes, EventType, Need, RawData, on_unit, reads_din, roles
from app.events.fields import AboGroup, Din, Ident, Marker, RhdType, Text, Timestamp, UnitId
from app.events.lineage import units_of
from app.events.messages import Event
from app.events.payload import EventData, TestResult, construct
from app.events.results import (
    BLOCKING,
    CLEAR,
    REPEATEDLY,
    Typing,
    donation_typing,
    marker_status,
    of_marker,
    tested_markers,
    typing,
)
from app.events.signatures import RELEASE, always
from app.events.slices.donors import DonorDeferred, active_for_marker
from app.events.slices.holds import lift_holds, place_holds
from app.events.slices.lookback import start_lookback
from app.events.slices.sites import LAB_SITE_KINDS, lab_serves
from app.events.state import (
    DonationState,
    Result,
    TestKind,
    World,
    get_donation,
    get_donor,
    get_lookback,
    get_unit,
    updated,
)
from app.events.unit import UnitState
from app.log.record import format_time

GROUP_MARKERS = ("ABO", "RHD")
SCREEN_RESULTS: Final = ("reactive", "non_reactive", "indeterminate")
CONFIRMATORY_RESULTS: Final = ("positive", "negative", "indeterminate")
LATER: Final = 2**62
"""Where a result being decided sorts among the recorded ones: after all of them."""


class TestResultRecorded(EventData):
    """One marker's result for a donation. ABO results are O/A/B/AB, RHD results POS/NEG
    (ISBT codes and +/- accepted); other markers reactive/non_reactive/indeterminate, or for
    a ``confirmatory`` test positive/negative/indeterminate."""

    __test__ = False  # a model, not a pytest class

    din: Din
    marker: Marker
    result: TestResult
    lab_site_id: Ident
    test_kind: TestKind = "screen"
    sample_id: Ident | None = None
    assay: Text | None = None
    kit_lot: Ident | None = None

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
            *SCREEN_RESULTS, *CONFIRMATORY_RESULTS
        ):
            return {**raw, "result": result.strip().lower()}
        return raw

    @model_validator(mode="after")
    def _result_fits_marker(self) -> TestResultRecorded:
        if self.marker in GROUP_MARKERS:
            if self.test_kind == "nat":
                raise ValueError(f"{self.marker} is typed, not tested by NAT")
        elif self.test_kind == "confirmatory":
            if self.result not in CONFIRMATORY_RESULTS:
                raise ValueError("confirmatory results are positive, negative or indeterminate")
        elif self.result not in SCREEN_RESULTS:
            raise ValueError(f"{self.marker} results are reactive, non_reactive or indeterminate")
        return self


class UnitReleased(EventData):
    """Enrichment: ``abo``, ``rhd``, ``category``, ``expires_at`` of the released unit and
    ``based_on``, the positions of the results the release relied on."""

    unit_id: UnitId
    abo: AboGroup | None = None
    rhd: RhdType | None = None
    category: Category | None = None
    expires_at: Timestamp | None = None
    based_on: list[int] | None = None


def lab_result_recorded(d: Decision, data: TestResultRecorded) -> None:
    """Record the result, then whatever it changes: holds, lifts, deferrals, a lookback."""
    d.site(data.lab_site_id, "data.lab_site_id", LAB_SITE_KINDS)
    if not d.catalogue.knows_marker(data.marker):
        raise UnknownMarker(f"{data.marker} is not in the catalogue's markers",
                            field="data.marker")
    donation = get_donation(d.world, data.din)
    if donation is None:
        raise DonationNotFound(f"no donation with DIN {data.din}", field="data.din")
    if not lab_serves(d.world, donation, data.lab_site_id):
        raise LabNotServing(
            f"{data.lab_site_id} does not test donations collected by this donation's site",
            field="data.lab_site_id")
    refs = {("donation", data.din), ("site", data.lab_site_id)}
    if donation.donor_id is not None:
        refs.add(("donor", donation.donor_id))
    d.emit(data, f"donation:{data.din}", refs)
    after = (*donation.results, _result(data, LATER, d.at))
    if data.marker in GROUP_MARKERS:
        _group_consequences(d, donation, data.marker, after)
    elif data.marker in d.catalogue.infectious:
        _marker_consequences(d, donation, data.marker, after)


def _result(data: TestResultRecorded, position: int, at: datetime) -> Result:
    return construct(Result, dict(position=position, marker=data.marker, kind=data.test_kind,
                                  result=data.result, at=at, sample_id=data.sample_id))


def _marker_consequences(d: Decision, donation: DonationState, marker: str,
                         after: tuple[Result, ...]) -> None:
    repeats = d.catalogue.repeats_to_resolve
    before = marker_status(donation.results, marker, repeats)
    now = marker_status(after, marker, repeats)
    if before == now:
        return
    din = donation.din
    units = units_of(d.world, donation.unit_ids)
    if now in BLOCKING and before not in BLOCKING:
        place_holds(d, units, "test", f"{marker} {now.replace('_', ' ')} on donation {din}",
                    marker, din)
    elif before in BLOCKING and now in CLEAR:
        lift_holds(d, units, "test", f"{marker} resolved: repeats non-reactive", marker, din)
    donor = get_donor(d.world, donation.donor_id) if donation.donor_id else None
    if donor is None:
        return
    active = active_for_marker(donor, marker, d.at)
    if now in REPEATEDLY and before not in REPEATEDLY and not active:
        d.emit(DonorDeferred(
            donor_id=donor.donor_id, reason=f"{marker} repeatedly reactive on donation {din}",
            cause="infectious_marker", marker=marker, din=din, pending_confirmation=True,
            deferral_id=str(d.next_event_id())), f"donor:{donor.donor_id}",
            {("donor", donor.donor_id)})
    if now == "confirmed_positive":
        d.emit(DonorDeferred(
            donor_id=donor.donor_id, reason=f"{marker} confirmed positive on donation {din}",
            cause="infectious_marker", marker=marker, din=din,
            deferral_id=str(d.next_event_id())), f"donor:{donor.donor_id}",
            {("donor", donor.donor_id)})
        lookback_id = f"LB-{din}-{marker}"
        if get_lookback(d.world, lookback_id) is None:
            start_lookback(d, lookback_id, marker, donor=donor,
                           reason=f"{marker} confirmed positive on donation {din}")


def _group_consequences(d: Decision, donation: DonationState, marker: str,
                        after: tuple[Result, ...]) -> None:
    donor_value = donation.donor_group.get(marker)
    before = typing(donation.results, marker, donor_value)
    now = typing(after, marker, donor_value)
    din = donation.din
    if now.discrepant and not before.discrepant:
        known = sorted({r.result for r in of_marker(after, marker)} | (
            {donor_value} if donor_value else set()))
        place_holds(d, units_of(d.world, donation.unit_ids), "abo_discrepancy",
                    f"{marker} discrepant on donation {din}: {', '.join(known)}", marker, din)
    elif before.discrepant and now.determined:
        lift_holds(d, units_of(d.world, donation.unit_ids), "abo_discrepancy",
                   f"{marker} confirmed {now.value}", marker, din)


def unit_released(d: Decision, data: UnitReleased) -> None:
    """Release when every rule of §3 holds; the event names the results it relied on."""
    unit = d.workable(data.unit_id)
    if unit.released:
        raise UnitAlreadyReleased(f"unit {unit.unit_id} is already released",
                                  field="data.unit_id")
    if unit.quarantined:
        raise UnitQuarantinedError(
            f"unit {unit.unit_id} is quarantined: {unit.quarantine_reason}", field="data.unit_id"
        )
    d.in_date(unit)
    (abo, rhd), based_on = release_basis(d.world, d.catalogue, unit)
    released = UnitReleased.model_validate({
        "unit_id": unit.unit_id, "abo": abo, "rhd": rhd, "category": unit.category,
        "expires_at": format_time(unit.expires_at), "based_on": based_on})
    d.emit(released, unit.unit_id, unit_refs(unit.unit_id))


def release_basis(world: World, cat: Catalogue, unit: UnitState
                  ) -> tuple[tuple[str, str], list[int]]:
    """The unit's ABO/RhD and the results that clear it, or the rule that forbids release.

    Every donation the unit comes from, and a pool's own DIN, is looked at: no infectious
    marker tested there may be open, every mandatory marker must be clear (on each source,
    or on the unit's own DIN), and each source's group must be determined and the same.
    """
    dins = list(dict.fromkeys((*unit.source_dins, unit.din)))
    donations = {din: donation for din in dins
                 if (donation := get_donation(world, din)) is not None}
    for din, donation in donations.items():
        for marker in tested_markers(donation.results):
            if marker in cat.infectious:
                status = marker_status(donation.results, marker, cat.repeats_to_resolve)
                if status in BLOCKING:
                    raise ReactiveMarker(f"{marker} is {status} on donation {din}",
                                         field="data.unit_id", din=din, marker=marker)
    for marker in cat.mandatory_for(unit.category):
        if marker in GROUP_MARKERS or (marker == "BACTERIA"
                                       and "pathogen_reduced" in unit.attributes):
            continue
        if not _clear(donations.get(unit.din), marker, cat) and not all(
                _clear(donations.get(src), marker, cat) for src in unit.source_dins):
            missing = next(src for src in unit.source_dins
                           if not _clear(donations.get(src), marker, cat))
            raise TestsIncomplete(f"{marker} on donation {missing} is not tested negative",
                                  field="data.unit_id", din=missing, marker=marker)
    groups: set[tuple[str, str]] = set()
    for src in unit.source_dins:
        groups.add(_group(donations.get(src), src))
    own = donations.get(unit.din)
    if unit.din not in unit.source_dins and own is not None and own.results:
        for marker, index in (("ABO", 0), ("RHD", 1)):
            found = donation_typing(own, marker)
            if found.discrepant or (found.value is not None
                                    and any(g[index] != found.value for g in groups)):
                raise GroupUndetermined(f"{marker} typed on pool {unit.din} disagrees",
                                        field="data.unit_id", din=unit.din, marker=marker)
    if len(groups) != 1:
        raise PoolMixedGroups(f"the pool {unit.unit_id} mixes ABO/RhD groups",
                              field="data.unit_id")
    relied = set(cat.mandatory_for(unit.category))
    based_on = sorted(r.position for donation in donations.values() for r in donation.results
                      if r.marker in relied)
    return groups.pop(), based_on


def _clear(donation: DonationState | None, marker: str, cat: Catalogue) -> bool:
    return donation is not None and marker_status(
        donation.results, marker, cat.repeats_to_resolve) in CLEAR


def _group(donation: DonationState | None, din: str) -> tuple[str, str]:
    if donation is None:
        raise TestsIncomplete(f"donation {din} is unknown", field="data.unit_id", din=din)
    found: dict[str, Typing] = {m: donation_typing(donation, m) for m in GROUP_MARKERS}
    for marker, t in found.items():
        if t.discrepant:
            raise GroupUndetermined(f"{marker} of donation {din} is discrepant",
                                    field="data.unit_id", din=din, marker=marker)
        if t.value is None:
            raise TestsIncomplete(f"{marker} of donation {din} is not determined",
                                  field="data.unit_id", din=din, marker=marker)
    return str(found["ABO"].value), str(found["RHD"].value)


def known_group(world: World, unit: UnitState) -> tuple[str, str] | None:
    """The unit's ABO/RhD if known (typed on its donation, or its pool's common group)."""
    if unit.abo is not None and unit.rhd is not None:
        return unit.abo, unit.rhd
    return None


def _tested(world: World, e: Event, data: TestResultRecorded) -> Changes:
    donation = get_donation(world, data.din)
    if donation is None:
        return {}
    results = (*donation.results, _result(data, e.position, e.occurred_at))
    new = updated(donation, {"results": results})
    changes: Changes = {("donation", donation.din): new}
    if data.marker == "CMV":
        # A CMV-negative unit is what some patients need (RULES §5); the donation's live
        # units carry the attribute while its CMV result is clear.
        clear = marker_status(new.results, "CMV") in CLEAR
        for unit_id in donation.unit_ids:
            unit = get_unit(world, unit_id)
            if unit is None or not unit.live or ("cmv_negative" in unit.attributes) == clear:
                continue
            attributes = {*unit.attributes} - {"cmv_negative"} | ({"cmv_negative"} if clear
                                                                    else set())
            changes[("unit", unit_id)] = updated(unit, {"attributes": tuple(sorted(attributes))})
        return changes
    if data.marker not in GROUP_MARKERS:
        return changes
    found = donation_typing(new, data.marker)
    name = "abo" if data.marker == "ABO" else "rhd"
    value = found.value if found.determined else None
    # The live units bearing this DIN show the group as typed; a released unit whose group
    # a confirmatory result changes is no longer released (its label is wrong).
    for unit_id in donation.unit_ids:
        unit = get_unit(world, unit_id)
        if unit is None or not unit.live or unit.__dict__[name] == value:
            continue
        relabel = unit.released and value is not None and unit.__dict__[name] is not None
        changes[("unit", unit_id)] = updated(
            unit, {name: value, "released": unit.released and not relabel})
    donor = get_donor(world, donation.donor_id) if donation.donor_id else None
    if donor is not None and found.determined and (
            data.test_kind == "confirmatory" or data.marker not in donor.group):
        changes[("donor", donor.donor_id)] = updated(
            donor, {"group": {**donor.group, data.marker: str(found.value)}})
    return changes


def _released(u: UnitState, e: Event, data: UnitReleased) -> UnitState:
    update: dict[str, Any] = {"released": True}
    if data.abo is not None:
        update["abo"] = data.abo
    if data.rhd is not None:
        update["rhd"] = data.rhd
    return updated(u, update)


def _reads_result(data: RawData) -> list[Need]:
    # A group result reaches every unit of the DIN (and the donor's known group); other
    # consequences load what they touch when they happen.
    marker = str(data.get("marker", "")).strip().upper()
    reactive = str(data.get("result", "")).strip().lower() in ("reactive", "indeterminate")
    return reads_din(data, deep=reactive or marker in (*GROUP_MARKERS, "CMV"))


TYPES = (
    EventType(TestResultRecorded, _tested, lab_result_recorded, roles("lab"), _reads_result,
              {"din": "A999926123456", "marker": "HIV", "result": "non_reactive",
               "lab_site_id": "LAB-DAM-01", "test_kind": "screen", "sample_id": "S-26-004512",
               "assay": "HIV Ag/Ab combo", "kit_lot": "LOT-2291"}),
    EventType(UnitReleased, on_unit(_released), unit_released, roles("processing"),
              example={"unit_id": "A999926123456-E0398V00"}, signs=always(RELEASE)),
)
