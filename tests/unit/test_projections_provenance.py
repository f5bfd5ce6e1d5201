"""Provenance: custody chains with dwell and transit segments, and patient → units, from
events decided by the domain."""

from __future__ import annotations

from typing import Any

from tests.support.scene import BEDSIDE, RED_CELLS, actor, din, scene
from tests.unit.projection_fold import fold, rows


def _chain(t: dict[str, Any], unit_id: str) -> list[tuple[Any, ...]]:
    segs = sorted((r for r in rows(t, "rm_custody") if r["unit_id"] == unit_id),
                  key=lambda r: r["from_position"])
    return [(s["kind"], s["site_id"], s["end_reason"]) for s in segs]


def test_custody_chain_through_split_shipment_and_transfusion() -> None:
    s = scene()
    whole = s.collect()
    red, _ = s.split(whole)
    s.test_all(din(1))
    s.release(red)
    shipment = s.ship(red, "H1")
    s.later(minutes=89)
    s.receive(red, shipment, "H1")
    s.reserve(red, "PAT-1")
    s.issue(red, "PAT-1")
    s.do("TransfusionStarted", {"unit_id": red, "patient_id": "PAT-1",
        "bedside_check": BEDSIDE}, actor("hospital", "H1"))
    s.do("UnitTransfused", {"unit_id": red, "patient_id": "PAT-1"}, actor("hospital", "H1"))
    t = fold(s.stored())
    assert _chain(t, whole) == [("site", "BB1", "split")]
    assert _chain(t, red) == [("site", "BB1", "shipped"), ("transit", "H1", "received"),
                              ("site", "H1", "transfused")]
    transit = next(r for r in rows(t, "rm_custody") if r["kind"] == "transit")
    assert (transit["to_at"] - transit["from_at"]).total_seconds() == 90 * 60
    assert transit["from_site_id"] == "BB1" and transit["accepted"] is True


def test_open_segment_is_the_current_custodian() -> None:
    s = scene()
    uid = s.collect(site="MU1")
    open_ = [r for r in rows(fold(s.stored()), "rm_custody") if r["to_position"] is None]
    assert [(r["unit_id"], r["site_id"]) for r in open_] == [(uid, "MU1")]


def test_pool_closes_parent_stays_and_opens_the_pool_at_the_acting_site() -> None:
    s = scene()
    parents = [s.split(s.collect(), [(RED_CELLS, "red_cells", 250)])[0] for _ in range(2)]
    s.do("UnitsPooled", {"parent_unit_ids": parents, "din": din(900), "product_code": RED_CELLS,
                         "category": "red_cells", "volume_ml": 480}, actor("processing", "BB1"))
    t = fold(s.stored())
    assert all(_chain(t, p) == [("site", "BB1", "pooled")] for p in parents)
    assert _chain(t, f"{din(900)}-{RED_CELLS}") == [("site", "BB1", None)]


def test_patient_actions_name_the_patient_even_when_the_event_does_not() -> None:
    s = scene()
    uid = s.released_component()
    hospital = actor("hospital", "H1")
    s.reserve(uid, "PAT-1", crossmatch="compatible")
    s.do("ReservationReleased", {"unit_id": uid}, hospital)
    s.do("UnitIssued", {"unit_id": uid, "patient_id": "PAT-2", "emergency": True,
                        "justification": "massive haemorrhage", "physician_id": "DR-1"},
         hospital)
    s.do("UnitReturned", {"unit_id": uid, "reason": "cancelled"}, hospital)
    s.reserve(uid, "PAT-3")
    s.issue(uid, "PAT-3")
    s.do("TransfusionStarted", {"unit_id": uid, "patient_id": "PAT-3",
        "bedside_check": BEDSIDE}, hospital)
    s.do("UnitTransfused", {"unit_id": uid, "patient_id": "PAT-3"}, hospital)
    s.do("AdverseReactionReported", {"unit_id": uid, "patient_id": "PAT-3",
                                     "reaction_type": "fnhtr", "severity": "non_severe",
                                     "imputability": "possible"}, hospital)
    t = fold(s.stored(), batch=2)
    got = sorted((r["position"], r["patient_id"], r["action"], r["emergency"], r["detail"])
                 for r in rows(t, "rm_patient_units"))
    assert [g[1:] for g in got] == [
        ("PAT-1", "reserved", False, "compatible"),
        ("PAT-1", "reservation_released", False, None),
        ("PAT-2", "issued", True, None), ("PAT-2", "returned", False, "cancelled"),
        ("PAT-3", "reserved", False, "compatible"), ("PAT-3", "issued", False, None),
        ("PAT-3", "transfused", False, None), ("PAT-3", "adverse_reaction", False, "fnhtr")]


def test_any_batching_gives_the_same_tables() -> None:
    s = scene()
    for i in range(6):
        bank = ("BB1", "BB2")[i % 2]
        whole = s.collect(site=bank)
        s.test_all(whole.split("-")[0])
        red, plasma = s.split(whole, site=bank)
        s.release(red, bank)
        s.receive(red, s.ship(red, "H1", bank), "H1", accepted=i % 3 != 0)
        s.do("UnitDiscarded", {"unit_id": plasma, "reason": "damaged", "note": "bag torn"},
             actor("processing", bank))
    events = s.stored()
    whole_log = fold(events)
    assert rows(whole_log, "rm_custody")
    for size in (1, 2, 3, 7, 50):
        assert fold(events, batch=size) == whole_log
