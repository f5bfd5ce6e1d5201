"""Decisions of component processing: split and pool."""

from __future__ import annotations

from app.errors import (
    ComponentExists,
    DinAlreadyCollected,
    InvalidEventData,
    NotCustodian,
    PoolCategoryMismatch,
    PoolMixedGroups,
    UnitQuarantinedError,
    VolumeExceeded,
)
from app.events.decide_donors import derived_unit_id, expiry
from app.events.decide_testing import known_group
from app.events.decision import Decision, require_unallocated
from app.events.messages import Key
from app.events.models import UnitSplit, UnitsPooled
from app.events.models_base import dump
from app.events.state import UnitState, get_donation, get_unit


def unit_split(d: Decision, data: UnitSplit) -> None:
    """Children keep the DIN, each with its own product code; the parent is consumed."""
    parent = d.workable(data.unit_id)
    require_unallocated(parent)
    d.in_date(parent)
    din = parent.din
    donation = get_donation(d.world, din)
    existing = set(donation.unit_ids) if donation is not None else {parent.unit_id}
    total = sum(c.volume_ml for c in data.components)
    if total > parent.volume_ml:
        raise VolumeExceeded(
            f"components hold {total} mL; the parent holds {parent.volume_ml} mL",
            field="data.components", parent_volume_ml=parent.volume_ml,
        )
    body = dump(data)
    body["din"] = din
    refs: set[Key] = {("unit", parent.unit_id), ("donation", din)}
    seen: set[str] = set()
    for i, (comp, out) in enumerate(zip(data.components, body["components"], strict=True)):
        field = f"data.components[{i}]"
        child_id = derived_unit_id(din, comp.product_code, comp.unit_id, f"{field}.unit_id")
        if child_id in seen or child_id in existing or get_unit(d.world, child_id) is not None:
            raise ComponentExists(f"unit {child_id} already exists", field=f"{field}.product_code")
        seen.add(child_id)
        shelf_end = parent.collected_at + d.catalogue.storage_for(
            comp.category, comp.product_code).shelf_life
        out["unit_id"] = child_id
        out["expires_at"] = expiry(d.at, shelf_end, comp.expires_at, f"{field}.expires_at")
        refs.add(("unit", child_id))
    d.emit("UnitSplit", parent.unit_id, body, refs)


def units_pooled(d: Decision, data: UnitsPooled) -> None:
    """Several in-stock units of one category and group become one unit of a new DIN."""
    if len(set(data.parent_unit_ids)) != len(data.parent_unit_ids):
        raise InvalidEventData("a unit appears twice in parent_unit_ids",
                               field="data.parent_unit_ids")
    unit_id = derived_unit_id(data.din, data.product_code, data.unit_id, "data.unit_id")
    if get_donation(d.world, data.din) is not None or get_unit(d.world, unit_id) is not None:
        raise DinAlreadyCollected(f"DIN {data.din} is already in use", field="data.din")
    parents = [_poolable(d, pid, i) for i, pid in enumerate(data.parent_unit_ids)]
    for i, parent in enumerate(parents):
        if parent.category != data.category:
            raise PoolCategoryMismatch(
                f"unit {parent.unit_id} is {parent.category}, the pool is {data.category}",
                field=f"data.parent_unit_ids[{i}]",
            )
    custodians = {p.custodian_site_id for p in parents}
    if len(custodians) != 1:
        raise NotCustodian("the units to pool are held by different sites",
                           field="data.parent_unit_ids")
    groups = {g for p in parents if (g := known_group(d.world, p)) is not None}
    if len(groups) > 1:
        raise PoolMixedGroups(
            "the units to pool have different ABO/RhD groups: "
            + ", ".join(sorted(f"{a} {r}" for a, r in groups)),
            field="data.parent_unit_ids",
        )
    total = sum(p.volume_ml for p in parents)
    if data.volume_ml > total:
        raise VolumeExceeded(f"the pool holds {data.volume_ml} mL; its parents {total} mL",
                             field="data.volume_ml")
    body = dump(data)
    body["unit_id"] = unit_id
    shelf_end = min(p.expires_at for p in parents)
    body["expires_at"] = expiry(d.at, shelf_end, data.expires_at, "data.expires_at")
    refs: set[Key] = {("unit", unit_id), ("donation", data.din)}
    for p in parents:
        refs.update({("unit", p.unit_id), ("donation", p.din)})
    d.emit("UnitsPooled", unit_id, body, refs)


def _poolable(d: Decision, unit_id: str, i: int) -> UnitState:
    field = f"data.parent_unit_ids[{i}]"
    unit = d.workable(unit_id, field)
    require_unallocated(unit, field)
    if unit.quarantined:
        raise UnitQuarantinedError(f"unit {unit_id} is quarantined: {unit.quarantine_reason}",
                                   field=field)
    d.in_date(unit, field)
    return unit

