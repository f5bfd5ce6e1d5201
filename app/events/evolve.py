"""``evolve``: an event and the world → the new states of the aggregates it changes.

Pure: it reads only the event (whose data the domain enriched with unit ids and expiries)
and the states it changes, never a clock, an id generator or the catalogue.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.events import isbt
from app.events.evolve_units import UNIT_CHANGES
from app.events.messages import Key, NewEvent, StoredEvent
from app.events.state import (
    DonationState,
    DonorDonation,
    DonorState,
    LookbackState,
    SiteState,
    State,
    UnitState,
    World,
    get_donation,
    get_donor,
    get_lookback,
    get_unit,
)
from app.log.record import parse_time

Event = NewEvent | StoredEvent
Changes = dict[Key, State]


def evolve(world: World, event: Event) -> Changes:
    """The states ``event`` changes, keyed by aggregate; ``{}`` when it changes none."""
    fold = _FOLDS.get(event.type)
    if fold is not None:
        return fold(world, event)
    change = UNIT_CHANGES.get(event.type)
    if change is None:
        return {}
    unit = get_unit(world, str(event.data["unit_id"]))
    if unit is None:
        return {}
    new = change(unit, event)
    return {} if new is unit else {("unit", unit.unit_id): new}


def _site(world: World, e: Event) -> Changes:
    d = e.data
    return {("site", d["site_id"]): SiteState(
        site_id=d["site_id"], site_kind=d["kind"], name=d["name"], region=d["region"])}


def _donor_registered(world: World, e: Event) -> Changes:
    d = e.data
    return {("donor", d["donor_id"]): DonorState(
        donor_id=d["donor_id"], abo=d.get("abo"), rhd=d.get("rhd"))}


def _donor_deferred(world: World, e: Event) -> Changes:
    donor = get_donor(world, e.data["donor_id"])
    if donor is None:
        return {}
    until = e.data.get("until")
    return {("donor", donor.donor_id): donor.model_copy(update={
        "deferred": True, "deferral_reason": e.data.get("reason"),
        "deferred_until": parse_time(until) if until else None,
    })}


def _donor_reinstated(world: World, e: Event) -> Changes:
    donor = get_donor(world, e.data["donor_id"])
    if donor is None:
        return {}
    return {("donor", donor.donor_id): donor.model_copy(update={
        "deferred": False, "deferred_until": None, "deferral_reason": None})}


def _collected(world: World, e: Event) -> Changes:
    d = e.data
    din, at = d["din"], e.occurred_at
    unit_id = d.get("unit_id") or isbt.unit_id_of(din, d["product_code"])
    unit = UnitState(
        unit_id=unit_id, din=din, product_code=d["product_code"], category=d["category"],
        volume_ml=d["volume_ml"], collected_at=at, expires_at=parse_time(d["expires_at"]),
        source_dins=(din,), custodian_site_id=d["site_id"],
    )
    donation = DonationState(
        din=din, donor_id=d["donor_id"], site_id=d["site_id"],
        collection_type=d["collection_type"], collected_at=at, unit_ids=(unit_id,),
    )
    changes: Changes = {("unit", unit_id): unit, ("donation", din): donation}
    donor = get_donor(world, d["donor_id"])
    if donor is not None:
        given = DonorDonation(din=din, collected_at=at, collection_type=d["collection_type"])
        changes[("donor", donor.donor_id)] = donor.model_copy(
            update={"donations": (*donor.donations, given)})
    return changes


def _split(world: World, e: Event) -> Changes:
    d = e.data
    parent = get_unit(world, d["unit_id"])
    if parent is None:
        return {}
    din = d.get("din") or parent.din
    changes: Changes = {}
    children: list[str] = []
    for comp in d["components"]:
        child_id = comp.get("unit_id") or isbt.unit_id_of(din, comp["product_code"])
        children.append(child_id)
        changes[("unit", child_id)] = parent.model_copy(update={
            "unit_id": child_id, "product_code": comp["product_code"],
            "category": comp["category"], "volume_ml": comp["volume_ml"],
            "expires_at": parse_time(comp["expires_at"]), "parents": (parent.unit_id,),
            "children": (),
        })
    changes[("unit", parent.unit_id)] = parent.model_copy(update={
        "consumed": True, "children": (*parent.children, *children)})
    donation = get_donation(world, din)
    if donation is not None:
        changes[("donation", din)] = donation.model_copy(
            update={"unit_ids": (*donation.unit_ids, *children)})
    return changes


def _pooled(world: World, e: Event) -> Changes:
    d = e.data
    din = d["din"]
    unit_id = d.get("unit_id") or isbt.unit_id_of(din, d["product_code"])
    parents = [p for p in (get_unit(world, pid) for pid in d["parent_unit_ids"]) if p]
    changes: Changes = {}
    sources: dict[str, None] = {}
    for p in parents:
        sources.update(dict.fromkeys(p.source_dins))
        changes[("unit", p.unit_id)] = p.model_copy(update={
            "consumed": True, "children": (*p.children, unit_id)})
    first = parents[0] if parents else None
    groups = {(p.abo, p.rhd) for p in parents}
    abo, rhd = groups.pop() if len(groups) == 1 else (None, None)
    changes[("unit", unit_id)] = UnitState(
        unit_id=unit_id, din=din, product_code=d["product_code"], category=d["category"],
        volume_ml=d["volume_ml"],
        collected_at=min((p.collected_at for p in parents), default=e.occurred_at),
        expires_at=parse_time(d["expires_at"]), source_dins=tuple(sources),
        parents=tuple(p.unit_id for p in parents),
        custodian_site_id=first.custodian_site_id if first else e.actor.site_id,
        location=first.location if first else None, abo=abo, rhd=rhd,
    )
    changes[("donation", din)] = DonationState(
        din=din, kind="pool", site_id=first.custodian_site_id if first else None,
        collected_at=e.occurred_at, unit_ids=(unit_id,),
    )
    return changes


def _tested(world: World, e: Event) -> Changes:
    d = e.data
    donation = get_donation(world, d["din"])
    if donation is None:
        return {}
    marker, result = d["marker"], d["result"]
    update: dict[str, Any] = {"tests": {**donation.tests, marker: result}}
    if result == "reactive" and marker not in donation.reactive:
        update["reactive"] = (*donation.reactive, marker)
    return {("donation", donation.din): donation.model_copy(update=update)}


def _lookback_started(world: World, e: Event) -> Changes:
    d = e.data
    units: dict[str, tuple[str, ...]] = {}
    for row in d.get("units") or ():
        sites = tuple(s for s in (row.get("custodian_site_id"), row.get("in_transit_to")) if s)
        units[row["unit_id"]] = sites
    return {("lookback", d["lookback_id"]): LookbackState(
        lookback_id=d["lookback_id"], units=units)}


def _lookback_acknowledged(world: World, e: Event) -> Changes:
    d = e.data
    lookback = get_lookback(world, d["lookback_id"])
    if lookback is None:
        return {}
    done = lookback.acknowledged.get(d["unit_id"], ())
    return {("lookback", lookback.lookback_id): lookback.model_copy(update={
        "acknowledged": {**lookback.acknowledged, d["unit_id"]: (*done, d["site_id"])}})}


_FOLDS: dict[str, Callable[[World, Event], Changes]] = {
    "SiteRegistered": _site,
    "DonorRegistered": _donor_registered,
    "DonorDeferred": _donor_deferred,
    "DonorReinstated": _donor_reinstated,
    "DonationCollected": _collected,
    "UnitSplit": _split,
    "UnitsPooled": _pooled,
    "TestResultRecorded": _tested,
    "LookbackStarted": _lookback_started,
    "LookbackAcknowledged": _lookback_acknowledged,
}
