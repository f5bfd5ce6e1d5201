"""Storage and custody: store, temperature excursion, ship, receive.

A unit has exactly one custodian. Shipping keeps the custodian and names the destination;
while in transit nothing but the destination's receipt may happen. A receipt always hands
custody to the receiver, since the unit is physically there; a refused receipt
(``accepted: false``) or an out-of-range arrival temperature quarantines the unit in the same
decision, so the receiver can return it or discard it.
"""

from __future__ import annotations

from pydantic import Field, StrictBool, model_validator

from app.errors import (
    IntendedUseMismatch,
    NotCustodian,
    NotDestination,
    ShipmentMismatch,
    ShipmentNotAllowed,
    ShipmentToSelf,
    StorageSiteMismatch,
    UnitNotInTransit,
)
from app.events.decision import Decision, require_live, require_unallocated, unit_refs
from app.events.event_type import EventType, on_unit
from app.events.fields import Ident, TempDc, Text, UnitId
from app.events.messages import Event
from app.events.payload import EventData
from app.events.slices.holds import UNIT_CARE, place_holds
from app.events.state import updated
from app.events.unit import UnitState

RECEIVING_KINDS = ("blood_bank", "hospital")
"""Sites that hold units: a lab receives samples, a fractionator takes plasma through
``UnitShippedForFractionation``, a mobile unit sends what it collects to its blood bank."""


class UnitStored(EventData):
    """The unit is put away at its custodian site, at a location there."""

    unit_id: UnitId
    site_id: Ident
    location: Text


class TemperatureExcursionRecorded(EventData):
    """Readings out of the usual storage, in tenths of °C; outside the category's range
    the domain quarantines the unit in the same decision."""

    unit_id: UnitId
    min_temp_dc: TempDc
    max_temp_dc: TempDc
    minutes: int = Field(ge=0, le=100_000)

    @model_validator(mode="after")
    def _ordered(self) -> TemperatureExcursionRecorded:
        if self.min_temp_dc > self.max_temp_dc:
            raise ValueError("min_temp_dc is above max_temp_dc")
        return self


class UnitShipped(EventData):
    """The custodian sends the unit to another site; it stays custodian until receipt."""

    unit_id: UnitId
    from_site_id: Ident
    to_site_id: Ident
    shipment_id: Ident


class UnitReceived(EventData):
    """``accepted: false`` still hands custody to the receiver (the unit is physically
    there) and quarantines the unit in the same decision."""

    unit_id: UnitId
    site_id: Ident
    shipment_id: Ident
    accepted: StrictBool
    temp_dc: TempDc | None = None


def unit_stored(d: Decision, data: UnitStored) -> None:
    """Storage at the custodian site, at a location there."""
    unit = d.workable(data.unit_id)
    if data.site_id != unit.custodian_site_id:
        raise StorageSiteMismatch(
            f"unit {unit.unit_id} is held by {unit.custodian_site_id}, not {data.site_id}",
            field="data.site_id",
        )
    d.emit(data, unit.unit_id, unit_refs(unit.unit_id) | {("site", data.site_id)})


def excursion_recorded(d: Decision, data: TemperatureExcursionRecorded) -> None:
    """Readings outside the category's range quarantine the unit."""
    unit = d.workable(data.unit_id, returned_late_ok=True)
    d.emit(data, unit.unit_id, unit_refs(unit.unit_id))
    storage = d.catalogue.storage_for(unit.category, unit.product_code, unit.modifications)
    if not storage.in_range(data.min_temp_dc, data.max_temp_dc):
        reason = (f"temperature excursion {data.min_temp_dc}..{data.max_temp_dc} dC "
                  f"for {data.minutes} min")
        place_holds(d, [unit], "temperature", reason)


def unit_shipped(d: Decision, data: UnitShipped) -> None:
    """Shipped by its custodian (not reserved or issued) to another registered site."""
    unit = d.workable(data.unit_id)
    require_unallocated(unit)
    if data.from_site_id != unit.custodian_site_id:
        raise NotCustodian(
            f"unit {unit.unit_id} is not held by {data.from_site_id}",
            field="data.from_site_id", custodian_site_id=unit.custodian_site_id,
        )
    if data.to_site_id == data.from_site_id:
        raise ShipmentToSelf(f"unit {unit.unit_id} is already at {data.to_site_id}",
                             field="data.to_site_id")
    destination = d.site(data.to_site_id, "data.to_site_id", RECEIVING_KINDS)
    if destination.site_kind == "hospital" and unit.intended_use in ("research", "source_plasma"):
        raise IntendedUseMismatch(
            f"unit {unit.unit_id} is collected for {unit.intended_use.replace('_', ' ')}: it "
            "never goes to a hospital", field="data.to_site_id")
    if destination.site_kind != "blood_bank" and (not unit.released or unit.quarantined):
        raise ShipmentNotAllowed(
            f"unit {unit.unit_id} is {'held' if unit.quarantined else 'not released'}: it may "
            "go only to a blood bank (a quarantine transfer)", field="data.to_site_id")
    d.emit(data, unit.unit_id, unit_refs(unit.unit_id) | {
        ("site", data.from_site_id), ("site", data.to_site_id)})


def unit_received(d: Decision, data: UnitReceived) -> None:
    """Only the destination receives, naming the shipment."""
    unit = d.unit(data.unit_id)
    require_live(unit)
    d.in_order(unit.last_at, f"unit {unit.unit_id}")
    if unit.in_transit_to is None:
        raise UnitNotInTransit(f"unit {unit.unit_id} is not in transit", field="data.unit_id")
    if data.site_id != unit.in_transit_to:
        raise NotDestination(f"unit {unit.unit_id} is on its way to another site",
                             field="data.site_id", destination_site_id=unit.in_transit_to)
    if data.shipment_id != unit.shipment_id:
        raise ShipmentMismatch(f"unit {unit.unit_id} travels in shipment {unit.shipment_id}",
                               field="data.shipment_id")
    refs = unit_refs(unit.unit_id) | {("site", data.site_id)}
    if unit.custodian_site_id is not None:
        refs.add(("site", unit.custodian_site_id))
    d.emit(data, unit.unit_id, refs)
    if not data.accepted:
        place_holds(d, [unit], "receipt", f"refused at receipt by {data.site_id}")
        return
    if data.temp_dc is not None and not d.catalogue.cold_chain.in_range(
            unit.category, data.temp_dc, unit.modifications):
        place_holds(d, [unit], "receipt",
                    f"arrived at {data.temp_dc} dC, outside the transport range")


def _stored(u: UnitState, e: Event, data: UnitStored) -> UnitState:
    return updated(u, {"location": data.location})


def _excursion(u: UnitState, e: Event, data: TemperatureExcursionRecorded) -> UnitState:
    return updated(u, {"excursions": u.excursions + 1})


def _shipped(u: UnitState, e: Event, data: UnitShipped) -> UnitState:
    return updated(u, {
        "in_transit_to": data.to_site_id, "shipment_id": data.shipment_id,
        "shipped_at": e.occurred_at, "location": None,
    })


def _received(u: UnitState, e: Event, data: UnitReceived) -> UnitState:
    return updated(u, {
        "custodian_site_id": data.site_id, "in_transit_to": None, "shipment_id": None,
        "shipped_at": None, "location": None,
    })


_UNIT = "A999926123456-E0398V00"
_HOLDERS = UNIT_CARE | {"collector"}
TYPES = (
    EventType(UnitStored, on_unit(_stored), unit_stored, _HOLDERS,
              example={"unit_id": _UNIT, "site_id": "BB-DAM-01", "location": "fridge 3"}),
    EventType(TemperatureExcursionRecorded, on_unit(_excursion), excursion_recorded, _HOLDERS,
              example={"unit_id": _UNIT, "min_temp_dc": 15, "max_temp_dc": 85, "minutes": 40}),
    EventType(UnitShipped, on_unit(_shipped), unit_shipped, _HOLDERS,
              example={"unit_id": _UNIT, "from_site_id": "BB-DAM-01", "to_site_id": "H-DAM-01",
                       "shipment_id": "SHP-2026-0001"}),
    EventType(UnitReceived, on_unit(_received), unit_received, UNIT_CARE,
              example={"unit_id": _UNIT, "site_id": "H-DAM-01", "shipment_id": "SHP-2026-0001",
                       "accepted": True, "temp_dc": 40}),
)
