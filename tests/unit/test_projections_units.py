"""Unit state: given these events, the unit rows say this."""

from __future__ import annotations

from tests.support.unit_events import Log
from tests.unit.projection_fold import fold, rows, unit

DIN = "A999925000001"


def test_collection_creates_an_unreleased_unit_in_stock_at_the_collecting_site() -> None:
    log = Log()
    uid = log.collect(DIN, site="BB1", donor="DONOR-7")
    u = unit(fold(log.events), uid)
    assert (u["status"], u["in_stock"], u["custodian_site_id"], u["donor_id"]) == (
        "unreleased", True, "BB1", "DONOR-7")
    assert u["expires_at"] is not None and u["din"] == DIN


def test_group_tests_set_abo_rhd_on_every_unit_of_the_donation() -> None:
    log = Log()
    whole = log.collect(DIN)
    red, plasma = log.split(whole, [("E0398V00", "red_cells", 1000), ("E2555V00", "plasma", 9000)])
    log.group(DIN, abo="A", rhd="NEG")
    t = fold(log.events)
    for uid in (red, plasma):
        assert (unit(t, uid)["abo"], unit(t, uid)["rhd"]) == ("A", "NEG")
    assert len([r for r in rows(t, "rm_tests") if r["din"] == DIN]) == 6


def test_split_consumes_the_parent_and_links_children_that_inherit_custody() -> None:
    log = Log()
    whole = log.collect(DIN, site="BB2")
    log.group(DIN)
    kids = log.split(whole, [("E0398V00", "red_cells", 1000), ("E2555V00", "plasma", 9000)],
                     site="BB2")
    t = fold(log.events)
    assert unit(t, whole)["status"] == "consumed" and not unit(t, whole)["in_stock"]
    for kid in kids:
        assert unit(t, kid)["custodian_site_id"] == "BB2"
        assert (unit(t, kid)["abo"], unit(t, kid)["donor_id"]) == ("O", "D1")
    edges = {(r["parent_unit_id"], r["child_unit_id"], r["kind"]) for r in rows(t, "rm_lineage")}
    assert edges == {(whole, k, "split") for k in kids}


def test_pool_makes_a_new_donation_from_consumed_parents() -> None:
    log = Log()
    parents = [log.collect(f"A99992500000{i}", product_code="E0001V00") for i in range(1, 4)]
    log.add("UnitsPooled", {"parent_unit_ids": parents, "din": "A999925999999",
                            "product_code": "E7000V00", "category": "platelets",
                            "volume_ml": 300, "unit_id": "A999925999999-E7000V00",
                            "expires_at": log.iso(120)}, role="processing")
    t = fold(log.events)
    pool = unit(t, "A999925999999-E7000V00")
    assert pool["status"] == "unreleased" and pool["donor_id"] is None
    assert all(unit(t, p)["consumed"] for p in parents)
    assert t["rm_donations"][("A999925999999",)]["kind"] == "pool"


def test_status_follows_release_quarantine_transit_issue_and_fate() -> None:
    log = Log()
    uid = log.collect(DIN)
    seen = []

    def step(type: str, data: dict[str, object], site: str = "BB1") -> None:
        log.add(type, {"unit_id": uid, **data}, site=site)
        seen.append(unit(fold(log.events), uid)["status"])

    step("UnitReleased", {"abo": "O", "rhd": "NEG"})
    step("UnitQuarantined", {"reason": "suspect"})
    step("QuarantineLifted", {"reason": "cleared"})
    step("UnitShipped", {"from_site_id": "BB1", "to_site_id": "H1", "shipment_id": "S1"})
    step("UnitReceived", {"site_id": "H1", "shipment_id": "S1", "accepted": True}, "H1")
    step("UnitReserved", {"patient_id": "P9", "patient_abo": "O", "patient_rhd": "NEG",
                          "crossmatch": "compatible"}, "H1")
    step("UnitIssued", {"patient_id": "P9", "emergency": True}, "H1")
    step("UnitReturned", {"reason": "not needed"}, "H1")
    step("UnitDiscarded", {"reason": "returned_late"}, "H1")
    assert seen == ["released", "quarantined", "released", "in_transit", "released", "reserved",
                    "issued", "released", "discarded"]
    t = fold(log.events)
    u = unit(t, uid)
    assert (u["rhd"], u["custodian_site_id"], u["fate_site_id"], u["in_stock"]) == (
        "NEG", "H1", "H1", False)
    fates = rows(t, "rm_fates")
    assert [(f["fate"], f["reason"], f["site_id"], f["abo"]) for f in fates] == [
        ("discarded", "returned_late", "H1", "O")]


def test_transfusion_records_the_recipient_and_a_fate_row() -> None:
    log = Log()
    uid = log.collect(DIN)
    log.add("UnitIssued", {"unit_id": uid, "patient_id": "P1", "ward": "ICU"})
    log.add("UnitTransfused", {"unit_id": uid, "patient_id": "P1"})
    t = fold(log.events)
    assert unit(t, uid)["recipient_patient_id"] == "P1"
    assert unit(t, uid)["status"] == "transfused"
    assert rows(t, "rm_fates")[0]["fate"] == "transfused"


def test_events_about_unknown_units_and_unknown_types_are_ignored() -> None:
    log = Log()
    log.add("UnitReleased", {"unit_id": "NOPE-E0001V00"})
    log.add("DonorRegistered", {"donor_id": "D1"})
    t = fold(log.events)
    assert rows(t, "rm_units") == []


def test_site_register() -> None:
    log = Log()
    log.add("SiteRegistered", {"site_id": "H1", "name": "Hospital", "kind": "hospital",
                               "region": "DAM"}, site=None, role="admin")
    assert fold(log.events)["rm_sites"][("H1",)]["kind"] == "hospital"
