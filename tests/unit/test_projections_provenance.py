"""Provenance: custody chains with dwell and transit segments, and patient → units."""

from __future__ import annotations

from tests.support.unit_events import Log
from tests.unit.projection_fold import fold, rows

DIN = "A999925000001"


def _chain(t: dict, unit_id: str) -> list[tuple]:
    segs = sorted((r for r in rows(t, "rm_custody") if r["unit_id"] == unit_id),
                  key=lambda r: r["from_position"])
    return [(s["kind"], s["site_id"], s["end_reason"]) for s in segs]


def test_custody_chain_through_split_shipment_and_transfusion() -> None:
    log = Log()
    whole = log.collect(DIN, site="BB1")
    red, _ = log.split(whole, [("E0398V00", "red_cells", 1000), ("E2555V00", "plasma", 9000)])
    log.add("UnitShipped", {"unit_id": red, "from_site_id": "BB1", "to_site_id": "H1",
                            "shipment_id": "S1"}, minutes=30)
    log.add("UnitReceived", {"unit_id": red, "site_id": "H1", "shipment_id": "S1",
                             "accepted": True}, site="H1", minutes=90)
    log.add("UnitIssued", {"unit_id": red, "patient_id": "P1"}, site="H1")
    log.add("UnitTransfused", {"unit_id": red, "patient_id": "P1"}, site="H1", minutes=60)
    t = fold(log.events)
    assert _chain(t, whole) == [("site", "BB1", "split")]
    assert _chain(t, red) == [("site", "BB1", "shipped"), ("transit", "H1", "received"),
                              ("site", "H1", "transfused")]
    transit = next(r for r in rows(t, "rm_custody") if r["kind"] == "transit")
    assert (transit["to_at"] - transit["from_at"]).total_seconds() == 90 * 60
    assert transit["from_site_id"] == "BB1" and transit["accepted"] is True


def test_open_segment_is_the_current_custodian() -> None:
    log = Log()
    uid = log.collect(DIN, site="BB3")
    open_ = [r for r in rows(fold(log.events), "rm_custody") if r["to_position"] is None]
    assert [(r["unit_id"], r["site_id"]) for r in open_] == [(uid, "BB3")]


def test_pool_closes_parent_stays_and_opens_the_pool_at_the_acting_site() -> None:
    log = Log()
    parents = [log.collect(f"A99992500000{i}", site="BB1") for i in range(1, 3)]
    log.add("UnitsPooled", {"parent_unit_ids": parents, "din": "A999925999999",
                            "product_code": "E7000V00", "category": "platelets",
                            "volume_ml": 300, "unit_id": "A999925999999-E7000V00"}, site="BB1")
    t = fold(log.events)
    assert all(_chain(t, p) == [("site", "BB1", "pooled")] for p in parents)
    assert _chain(t, "A999925999999-E7000V00") == [("site", "BB1", None)]


def test_patient_actions_name_the_patient_even_when_the_event_does_not() -> None:
    log = Log()
    uid = log.collect(DIN)
    log.add("UnitReserved", {"unit_id": uid, "patient_id": "P1", "crossmatch": "electronic"})
    log.add("ReservationReleased", {"unit_id": uid})
    log.add("UnitIssued", {"unit_id": uid, "patient_id": "P2", "emergency": True})
    log.add("UnitReturned", {"unit_id": uid, "reason": "cancelled"})
    log.add("UnitIssued", {"unit_id": uid, "patient_id": "P3"})
    log.add("AdverseReactionReported", {"unit_id": uid, "patient_id": "P3",
                                        "reaction_type": "fever", "severity": "mild"})
    t = fold(log.events, batch=2)
    got = sorted((r["position"], r["patient_id"], r["action"], r["emergency"])
                 for r in rows(t, "rm_patient_units"))
    assert [g[1:] for g in got] == [
        ("P1", "reserved", False), ("P1", "reservation_released", False),
        ("P2", "issued", True), ("P2", "returned", False), ("P3", "issued", False),
        ("P3", "adverse_reaction", False)]


def test_any_batching_gives_the_same_tables() -> None:
    log = Log()
    for i in range(6):
        din = f"A99992500010{i}"
        uid = log.collect(din, site=f"BB{i % 2}")
        log.group(din)
        red, plasma = log.split(uid, [("E0398V00", "red_cells", 900),
                                      ("E2555V00", "plasma", 9000)], site=f"BB{i % 2}")
        log.add("UnitShipped", {"unit_id": red, "to_site_id": "H1", "shipment_id": f"S{i}"})
        log.add("UnitReceived", {"unit_id": red, "site_id": "H1", "accepted": i % 3 != 0},
                site="H1")
        log.add("UnitDiscarded", {"unit_id": plasma, "reason": "damaged"})
    whole = fold(log.events)
    for size in (1, 2, 3, 7, 50):
        assert fold(log.events, batch=size) == whole
