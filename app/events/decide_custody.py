"""Decisions of storage and custody: store, temperature excursion, ship, receive.

A unit has exactly one custodian. Shipping keeps the custodian and names the destination;
while in transit nothing but the destination's receipt may happen. A receipt always hands
custody to the receiver, since the unit is physically there; a refused receipt
(``accepted: false``) or an out-of-range arrival temperature quarantines the unit in the same
decision, so the receiver can return it or discard it.
"""

from __future__ import annotations

from app.errors import (
    NotCustodian,
    NotDestination,
    ShipmentMismatch,
    ShipmentToSelf,
    StorageSiteMismatch,
    UnitNotInTransit,
)
from app.events.decide_testing import quarantine_all
from app.events.decision import Decision, require_live, require_unallocated, unit_refs
from app.events.models_base import dump
from app.events.models_units import (
    TemperatureExcursionRecorded,
    UnitReceived,
    UnitShipped,
    UnitStored,
)


def unit_stored(d: Decision, data: UnitStored) -> None:
    """Storage at the custodian site, at a location there."""
    unit = d.workable(data.unit_id)
    if data.site_id != unit.custodian_site_id:
        raise StorageSiteMismatch(
            f"unit {unit.unit_id} is held by {unit.custodian_site_id}, not {data.site_id}",
            field="data.site_id",
        )
    d.emit("UnitStored", unit.unit_id, dump(data),
           unit_refs(unit.unit_id) | {("site", data.site_id)})


def excursion_recorded(d: Decision, data: TemperatureExcursionRecorded) -> None:
    """Readings outside the category's range quarantine the unit."""
    unit = d.workable(data.unit_id)
    d.emit("TemperatureExcursionRecorded", unit.unit_id, dump(data), unit_refs(unit.unit_id))
    storage = d.catalogue.storage_for(unit.category, unit.product_code)
    if not storage.in_range(data.min_temp_dc, data.max_temp_dc):
        reason = (f"temperature excursion {data.min_temp_dc}..{data.max_temp_dc} dC "
                  f"for {data.minutes} min")
        quarantine_all(d, [unit], reason)


def unit_shipped(d: Decision, data: UnitShipped) -> None:
    """Shipped by its custodian (not reserved or issued) to another registered site."""
    unit = d.workable(data.unit_id)
    require_unallocated(unit)
    if data.from_site_id != unit.custodian_site_id:
        raise NotCustodian(
            f"unit {unit.unit_id} is held by {unit.custodian_site_id}, not {data.from_site_id}",
            field="data.from_site_id",
        )
    if data.to_site_id == data.from_site_id:
        raise ShipmentToSelf(f"unit {unit.unit_id} is already at {data.to_site_id}",
                             field="data.to_site_id")
    d.site(data.to_site_id, "data.to_site_id")
    d.emit("UnitShipped", unit.unit_id, dump(data), unit_refs(unit.unit_id) | {
        ("site", data.from_site_id), ("site", data.to_site_id)})


def unit_received(d: Decision, data: UnitReceived) -> None:
    """Only the destination receives, naming the shipment."""
    unit = d.unit(data.unit_id)
    require_live(unit)
    if unit.in_transit_to is None:
        raise UnitNotInTransit(f"unit {unit.unit_id} is not in transit", field="data.unit_id")
    if data.site_id != unit.in_transit_to:
        raise NotDestination(f"unit {unit.unit_id} is on its way to {unit.in_transit_to}",
                             field="data.site_id")
    if data.shipment_id != unit.shipment_id:
        raise ShipmentMismatch(f"unit {unit.unit_id} travels in shipment {unit.shipment_id}",
                               field="data.shipment_id")
    refs = unit_refs(unit.unit_id) | {("site", data.site_id)}
    if unit.custodian_site_id is not None:
        refs.add(("site", unit.custodian_site_id))
    d.emit("UnitReceived", unit.unit_id, dump(data), refs)
    if not data.accepted:
        quarantine_all(d, [unit], f"refused at receipt by {data.site_id}")
        return
    storage = d.catalogue.storage_for(unit.category, unit.product_code)
    if data.temp_dc is not None and not storage.in_range(data.temp_dc, data.temp_dc):
        quarantine_all(d, [unit], f"arrived at {data.temp_dc} dC, outside the storage range")
