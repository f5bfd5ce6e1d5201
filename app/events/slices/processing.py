"""Component processing: splitting a unit into components, and pooling units into a new DIN.

Lineage is a graph: children keep their parents and parents their children. A consumed parent
cannot be used again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field

from app.errors import (
    ComponentExists,
    DerivationNotAllowed,
    DinAlreadyCollected,
    IntendedUseMismatch,
    InvalidEventData,
    ModificationNotAllowed,
    NotCustodian,
    PoolCategoryMismatch,
    PoolMixedGroups,
    UnitExpired,
    UnitQuarantinedError,
    VolumeExceeded,
)
from app.events import isbt
from app.events.catalogue import Category
from app.events.catalogue_parts import Modification
from app.events.decision import Decision, require_unallocated
from app.events.event_type import (
    Changes,
    EventType,
    Need,
    RawData,
    quiet,
    reads_din,
    reads_unit,
    reads_units,
    roles,
)
from app.events.fields import Din, Ident, ProductCode, Timestamp, UnitId, VolumeMl
from app.events.messages import Event, Key
from app.events.payload import EventData, construct
from app.events.slices.collection import check_product_code, derived_unit_id, expiry
from app.events.slices.testing import known_group
from app.events.state import DonationState, World, get_donation, get_unit, updated
from app.events.unit import UnitState
from app.log.record import parse_time

System = Literal["closed", "open"]


class Component(EventData):
    """One child of a split. Enrichment: ``unit_id`` and ``expires_at``."""

    product_code: ProductCode
    category: Category
    volume_ml: VolumeMl
    unit_id: UnitId | None = None
    expires_at: Timestamp | None = None


class UnitSplit(EventData):
    """The parent is consumed; each component keeps the DIN. ``system`` is ``open`` when the
    processing opened the bag (short expiry). Enrichment: ``din``."""

    unit_id: UnitId
    components: list[Component] = Field(min_length=1, max_length=16)
    din: Din | None = None
    system: System = "closed"


class UnitModified(EventData):
    """A unit made into another product (irradiated, washed, thawed...): a new unit
    ``DIN-{product_code}``; the parent is consumed. Enrichment: ``new_unit_id``,
    ``expires_at`` and ``attributes`` (what the product now offers patients)."""

    unit_id: UnitId
    modification: Modification
    product_code: ProductCode
    system: System = "closed"
    device_id: Ident | None = None
    new_unit_id: UnitId | None = None
    expires_at: Timestamp | None = None
    attributes: list[str] | None = None


class UnitsPooled(EventData):
    """Parents are consumed into a new DIN. Enrichment: ``unit_id``, ``expires_at``."""

    parent_unit_ids: list[UnitId] = Field(min_length=2, max_length=32)
    din: Din
    product_code: ProductCode
    category: Category
    volume_ml: VolumeMl
    unit_id: UnitId | None = None
    expires_at: Timestamp | None = None


def unit_split(d: Decision, data: UnitSplit) -> None:
    """Children keep the DIN, each with its own product code; the parent is consumed."""
    parent = d.workable(data.unit_id)
    require_unallocated(parent)
    d.in_date(parent)
    din = parent.din
    donation = get_donation(d.world, din)
    existing = set(donation.unit_ids) if donation is not None else {parent.unit_id}
    rules = d.catalogue.products
    allowed = rules.derivations.get(parent.category, ())
    for i, comp in enumerate(data.components):
        if comp.category not in allowed:
            raise DerivationNotAllowed(
                f"{comp.category} is not made from {parent.category} (from it: "
                f"{', '.join(allowed) or 'nothing'})", field=f"data.components[{i}].category")
        check_product_code(d.catalogue, comp.product_code, comp.category,
                           f"data.components[{i}].product_code")
    total = sum(c.volume_ml for c in data.components)
    # Anticoagulant and additive solution are added at the first processing of a collection.
    first = not parent.parents and parent.collection_type is not None
    allowance = rules.collection_set_ml.get(parent.collection_type or "", 0) if first else 0
    if total > parent.volume_ml + allowance:
        raise VolumeExceeded(
            f"components hold {total} mL; the parent holds {parent.volume_ml} mL"
            + (f" and its collection set adds up to {allowance} mL" if allowance else ""),
            field="data.components", parent_volume_ml=parent.volume_ml, allowance_ml=allowance,
        )
    refs: set[Key] = {("unit", parent.unit_id), ("donation", din)}
    seen: set[str] = set()
    components = []
    for i, comp in enumerate(data.components):
        field = f"data.components[{i}]"
        child_id = derived_unit_id(din, comp.product_code, comp.unit_id, f"{field}.unit_id")
        if child_id in seen or child_id in existing or get_unit(d.world, child_id) is not None:
            raise ComponentExists(f"unit {child_id} already exists", field=f"{field}.product_code")
        seen.add(child_id)
        # A component never outlives its parent (RULES §5), whatever its own shelf life;
        # the catalogue may exempt the first processing of a collection (see ProductRules).
        shelf_end = parent.collected_at + d.catalogue.storage_for(
            comp.category, comp.product_code).shelf_life
        if not (first and not rules.first_processing_capped_by_parent):
            shelf_end = min(shelf_end, parent.expires_at)
        if data.system == "open":
            shelf_end = min(shelf_end, d.at + timedelta(
                hours=rules.open_system_cap(comp.category)))
        components.append(comp.model_copy(update={
            "unit_id": child_id,
            "expires_at": expiry(d.at, shelf_end, comp.expires_at, f"{field}.expires_at"),
        }))
        refs.add(("unit", child_id))
    d.emit(data.model_copy(update={"din": din, "components": components}), parent.unit_id, refs)


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
    if any(p.intended_use != "allogeneic" for p in parents):
        raise IntendedUseMismatch("only allogeneic units are pooled",
                                  field="data.parent_unit_ids")
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
    shelf_end = min(p.expires_at for p in parents)
    enriched = data.model_copy(update={
        "unit_id": unit_id,
        "expires_at": expiry(d.at, shelf_end, data.expires_at, "data.expires_at"),
    })
    refs: set[Key] = {("unit", unit_id), ("donation", data.din)}
    for p in parents:
        refs.update({("unit", p.unit_id), ("donation", p.din)})
    d.emit(enriched, unit_id, refs)


def unit_modified(d: Decision, data: UnitModified) -> None:
    """A modification of a live, unallocated, in-date unit into a new product code."""
    parent = d.workable(data.unit_id)
    require_unallocated(parent)
    d.in_date(parent)
    rules = d.catalogue.products
    if parent.category not in rules.modifiable.get(data.modification, ()):
        raise ModificationNotAllowed(
            f"{data.modification} does not apply to {parent.category}",
            field="data.modification")
    if data.modification in parent.modifications:
        raise ModificationNotAllowed(
            f"unit {parent.unit_id} is already {data.modification}", field="data.modification")
    check_product_code(d.catalogue, data.product_code, parent.category, "data.product_code")
    new_id = derived_unit_id(parent.din, data.product_code, data.new_unit_id,
                             "data.new_unit_id")
    if new_id == parent.unit_id or get_unit(d.world, new_id) is not None:
        raise ComponentExists(f"unit {new_id} already exists", field="data.product_code")
    shelf_end = parent.expires_at
    hours = rules.modification_hours.get(data.modification, {}).get(parent.category)
    if hours is not None:
        shelf_end = min(shelf_end, d.at + timedelta(hours=hours))
    if data.system == "open":
        shelf_end = min(shelf_end, d.at + timedelta(hours=rules.open_system_cap(
            parent.category)))
    if shelf_end <= d.at:
        raise UnitExpired(f"unit {parent.unit_id} would be expired once {data.modification}",
                          field="data.unit_id")
    gained = rules.attributes.get(data.modification)
    attributes = sorted({*parent.attributes, *([gained] if gained else [])})
    enriched = data.model_copy(update={
        "new_unit_id": new_id,
        "expires_at": expiry(d.at, shelf_end, data.expires_at, "data.expires_at"),
        "attributes": attributes})
    d.emit(enriched, parent.unit_id, {("unit", parent.unit_id), ("unit", new_id),
                                      ("donation", parent.din)})


def _poolable(d: Decision, unit_id: str, i: int) -> UnitState:
    field = f"data.parent_unit_ids[{i}]"
    unit = d.workable(unit_id, field)
    require_unallocated(unit, field)
    if unit.quarantined:
        raise UnitQuarantinedError(f"unit {unit_id} is quarantined: {unit.quarantine_reason}",
                                   field=field)
    d.in_date(unit, field)
    return unit


def _split(world: World, e: Event, data: UnitSplit) -> Changes:
    parent = get_unit(world, data.unit_id)
    if parent is None:
        return {}
    din = data.din or parent.din
    changes: Changes = {}
    children: list[str] = []
    for comp in data.components:
        child_id = comp.unit_id or isbt.unit_id_of(din, comp.product_code)
        assert comp.expires_at is not None, "decide enriches every component with its expiry"
        children.append(child_id)
        changes[("unit", child_id)] = updated(parent, {
            "unit_id": child_id, "product_code": comp.product_code, "category": comp.category,
            "volume_ml": comp.volume_ml, "expires_at": parse_time(comp.expires_at),
            "parents": (parent.unit_id,), "children": (), "excursions": 0,
        })
    changes[("unit", parent.unit_id)] = updated(parent, {
        "consumed": True, "children": (*parent.children, *children)})
    donation = get_donation(world, din)
    if donation is not None:
        changes[("donation", din)] = updated(
            donation, {"unit_ids": (*donation.unit_ids, *children)})
    return changes


def _modified(world: World, e: Event, data: UnitModified) -> Changes:
    parent = get_unit(world, data.unit_id)
    if parent is None or data.new_unit_id is None or data.expires_at is None:
        return {}
    child = updated(parent, {
        "unit_id": data.new_unit_id, "product_code": data.product_code,
        "expires_at": parse_time(data.expires_at), "parents": (parent.unit_id,),
        "children": (), "excursions": 0, "attributes": tuple(data.attributes or ()),
        "modifications": (*parent.modifications, data.modification),
    })
    changes: Changes = {
        ("unit", data.new_unit_id): child,
        ("unit", parent.unit_id): updated(parent, {
            "consumed": True, "children": (*parent.children, data.new_unit_id)}),
    }
    donation = get_donation(world, parent.din)
    if donation is not None:
        changes[("donation", parent.din)] = updated(
            donation, {"unit_ids": (*donation.unit_ids, data.new_unit_id)})
    return changes


def _pooled(world: World, e: Event, data: UnitsPooled) -> Changes:
    din = data.din
    unit_id = data.unit_id or isbt.unit_id_of(din, data.product_code)
    assert data.expires_at is not None, "decide enriches every pool with its expiry"
    parents = [p for p in (get_unit(world, pid) for pid in data.parent_unit_ids) if p]
    changes: Changes = {}
    sources: dict[str, None] = {}
    for p in parents:
        sources.update(dict.fromkeys(p.source_dins))
        changes[("unit", p.unit_id)] = updated(p, {
            "consumed": True, "children": (*p.children, unit_id)})
    first = parents[0] if parents else None
    groups = {(p.abo, p.rhd) for p in parents}
    abo, rhd = groups.pop() if len(groups) == 1 else (None, None)
    site = first.custodian_site_id if first else e.actor.site_id
    changes[("unit", unit_id)] = construct(UnitState, dict(
        unit_id=unit_id, din=din, product_code=data.product_code, category=data.category,
        volume_ml=data.volume_ml,
        collected_at=min((p.collected_at for p in parents), default=e.occurred_at),
        expires_at=parse_time(data.expires_at), source_dins=tuple(sources),
        parents=tuple(p.unit_id for p in parents), collected_site_id=site,
        custodian_site_id=site, location=first.location if first else None, abo=abo, rhd=rhd,
        attributes=tuple(sorted(set.intersection(*(set(p.attributes) for p in parents))))
        if parents else (),
        modifications=_shared_modifications(parents),
    ))
    changes[("donation", din)] = construct(DonationState, dict(
        din=din, kind="pool", site_id=site, collected_at=e.occurred_at, unit_ids=(unit_id,),
    ))
    return changes


def _shared_modifications(parents: list[UnitState]) -> tuple[str, ...]:
    """The modifications every parent of a pool went through, in the first parent's order."""
    if not parents:
        return ()
    return tuple(m for m in parents[0].modifications
                 if all(m in p.modifications for p in parents[1:]))


def _reads_split(data: RawData) -> list[Need]:
    """The parent, and the units the split would create (their absence is known at once)."""
    needs = reads_unit(data)
    unit_id = quiet(isbt.parse_unit_id, data.get("unit_id"))
    components = data.get("components")
    if unit_id is None or not isinstance(components, list):
        return needs
    din = isbt.din_of_unit(unit_id)
    for comp in components:
        code = quiet(isbt.parse_product_code, comp.get("product_code")) if isinstance(
            comp, dict) else None
        if code is not None:
            needs.append((("unit", isbt.unit_id_of(din, code)), False))
    return needs


def _reads_modified(data: RawData) -> list[Need]:
    needs = reads_unit(data)
    unit_id = quiet(isbt.parse_unit_id, data.get("unit_id"))
    code = quiet(isbt.parse_product_code, data.get("product_code"))
    if unit_id is not None and code is not None:
        needs.append((("unit", isbt.unit_id_of(isbt.din_of_unit(unit_id), code)), False))
    return needs


def _reads_pool(data: RawData) -> list[Need]:
    return reads_din(data) + reads_units(data.get("parent_unit_ids"))


TYPES = (
    EventType(UnitSplit, _split, unit_split, roles("processing"), _reads_split,
              {"unit_id": "A999926123456-E0001V00", "components": [
                  {"product_code": "E0398V00", "category": "red_cells", "volume_ml": 280},
                  {"product_code": "E2555V00", "category": "plasma", "volume_ml": 160}]}),
    EventType(UnitModified, _modified, unit_modified, roles("processing", "hospital"),
              _reads_modified, {"unit_id": "A999926123456-E0398V00",
                                "modification": "irradiated", "product_code": "E0400V00",
                                "device_id": "IRR-DAM-2"}),
    EventType(UnitsPooled, _pooled, units_pooled, roles("processing"), _reads_pool,
              {"parent_unit_ids": ["A999926123456-E3084V00", "A999926123457-E3084V00"],
               "din": "A999926900001", "product_code": "E3084V00", "category": "platelets",
               "volume_ml": 300}),
)
