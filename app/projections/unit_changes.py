"""How each single-unit event changes that unit's row (status is derived afterwards)."""

from __future__ import annotations

from collections.abc import Callable

from app.events.messages import StoredEvent
from app.projections.tables import Row

FINAL_FATES = {
    "UnitTransfused": "transfused",
    "UnitDiscarded": "discarded",
    "UnitShippedForFractionation": "fractionated",
}


def released(row: Row, e: StoredEvent) -> None:
    row["released"] = True
    for field in ("abo", "rhd"):
        if e.data.get(field) is not None:
            row[field] = e.data[field]


def quarantined(row: Row, e: StoredEvent) -> None:
    row["quarantined"] = True
    row["quarantine_reason"] = e.data.get("reason")


def quarantine_lifted(row: Row, e: StoredEvent) -> None:
    row["quarantined"] = False
    row["quarantine_reason"] = None


def stored(row: Row, e: StoredEvent) -> None:
    row["location"] = e.data.get("location")
    if e.data.get("site_id") is not None:
        row["custodian_site_id"] = e.data["site_id"]


def excursion(row: Row, e: StoredEvent) -> None:
    row["excursions"] = (row["excursions"] or 0) + 1


def shipped(row: Row, e: StoredEvent) -> None:
    d = e.data
    row["in_transit_from"] = d.get("from_site_id") or row["custodian_site_id"]
    row["in_transit_to"] = d["to_site_id"]
    row["shipment_id"] = d.get("shipment_id")
    row["shipped_at"] = e.occurred_at
    row["location"] = None


def received(row: Row, e: StoredEvent) -> None:
    # Custody passes to the receiver even when it refuses the unit: the unit is physically
    # there, and the domain quarantines or discards it in events of its own.
    row["custodian_site_id"] = e.data.get("site_id") or row["in_transit_to"]
    row["in_transit_from"] = None
    row["in_transit_to"] = None
    row["shipped_at"] = None
    row["location"] = None


def reserved(row: Row, e: StoredEvent) -> None:
    row["reserved_patient_id"] = e.data.get("patient_id")
    row["crossmatch"] = e.data.get("crossmatch")


def reservation_released(row: Row, e: StoredEvent) -> None:
    row["reserved_patient_id"] = None
    row["crossmatch"] = None


def issued(row: Row, e: StoredEvent) -> None:
    row["issued_patient_id"] = e.data.get("patient_id")
    row["ward"] = e.data.get("ward")
    row["emergency"] = bool(e.data.get("emergency", False))


def returned(row: Row, e: StoredEvent) -> None:
    row["issued_patient_id"] = None
    row["reserved_patient_id"] = None
    row["crossmatch"] = None
    row["ward"] = None


def adverse_reaction(row: Row, e: StoredEvent) -> None:
    row["adverse_reactions"] = (row["adverse_reactions"] or 0) + 1


def final(row: Row, e: StoredEvent) -> None:
    row["fate"] = FINAL_FATES[e.type]
    row["fate_reason"] = e.data.get("reason")
    row["fate_at"] = e.occurred_at
    row["fate_site_id"] = (
        e.data.get("fractionator_site_id") if e.type == "UnitShippedForFractionation"
        else row["custodian_site_id"]
    )
    if e.type == "UnitTransfused":
        row["recipient_patient_id"] = e.data.get("patient_id") or row["issued_patient_id"]


UNIT_CHANGES: dict[str, Callable[[Row, StoredEvent], None]] = {
    "UnitReleased": released,
    "UnitQuarantined": quarantined,
    "QuarantineLifted": quarantine_lifted,
    "UnitStored": stored,
    "TemperatureExcursionRecorded": excursion,
    "UnitShipped": shipped,
    "UnitReceived": received,
    "UnitReserved": reserved,
    "ReservationReleased": reservation_released,
    "UnitIssued": issued,
    "UnitReturned": returned,
    "AdverseReactionReported": adverse_reaction,
    "UnitTransfused": final,
    "UnitDiscarded": final,
    "UnitShippedForFractionation": final,
}
