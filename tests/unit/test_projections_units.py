"""Unit state: given these decided events, the unit rows say this (and agree with the
domain's own state, field for field)."""

from __future__ import annotations

from app.projections.tables import UNIT_STATE
from tests.support.scene import BEDSIDE, RED_CELLS, Scene, actor, din, scene
from tests.unit.projection_fold import fold, rows, unit


def _agrees(s: Scene, unit_id: str) -> None:
    assert UNIT_STATE.state_of(unit(fold(s.stored()), unit_id)) == s.unit(unit_id)


def test_collection_creates_an_unreleased_unit_in_stock_at_the_collecting_site() -> None:
    s = scene()
    donor = s.new_donor("DONOR-7")
    uid = s.collect(donor_id=donor, site="MU1")
    u = unit(fold(s.stored()), uid)
    assert (u["status"], u["in_stock"], u["custodian_site_id"], u["donor_id"]) == (
        "unreleased", True, "MU1", "DONOR-7")
    assert u["expires_at"] == s.unit(uid).expires_at and u["din"] == din(1)
    _agrees(s, uid)


def test_group_tests_set_abo_rhd_on_every_live_unit_of_the_donation() -> None:
    s = scene()
    whole = s.collect()
    red, plasma = s.split(whole)
    s.test_all(din(1), abo="A", rhd="NEG")
    t = fold(s.stored())
    for uid in (red, plasma):
        assert (unit(t, uid)["abo"], unit(t, uid)["rhd"]) == ("A", "NEG")
        _agrees(s, uid)
    assert unit(t, whole)["abo"] is None  # consumed before typing: it never changes again
    assert len([r for r in rows(t, "rm_tests") if r["din"] == din(1)]) == 6


def test_split_consumes_the_parent_and_links_children_that_inherit_custody() -> None:
    s = scene()
    whole = s.collect(site="BB2")
    s.test_all(din(1))
    kids = s.split(whole, site="BB2")
    t = fold(s.stored())
    assert unit(t, whole)["status"] == "consumed" and not unit(t, whole)["in_stock"]
    for kid in kids:
        assert unit(t, kid)["custodian_site_id"] == "BB2"
        assert (unit(t, kid)["abo"], unit(t, kid)["donor_id"]) == ("O", s.unit(whole).donor_id)
    edges = {(r["parent_unit_id"], r["child_unit_id"], r["kind"]) for r in rows(t, "rm_lineage")}
    assert edges == {(whole, k, "split") for k in kids}


def test_pool_makes_a_new_donation_from_consumed_parents() -> None:
    s = scene()
    parents = []
    for _ in range(3):
        whole = s.collect()
        s.test_all(whole.split("-")[0], abo="B", rhd="POS")
        parents.append(s.split(whole, [(RED_CELLS, "red_cells", 250)])[0])
    pool = f"{din(900)}-E0398V00"
    s.do("UnitsPooled", {"parent_unit_ids": parents, "din": din(900), "product_code": RED_CELLS,
                         "category": "red_cells", "volume_ml": 700}, actor("processing", "BB1"))
    t = fold(s.stored())
    row = unit(t, pool)
    assert (row["status"], row["donor_id"], row["abo"], row["rhd"]) == (
        "unreleased", None, "B", "POS")
    assert all(unit(t, p)["consumed"] for p in parents)
    assert t["rm_donations"][(din(900),)]["kind"] == "pool"
    assert t["rm_donations"][(din(900),)]["volume_ml"] == 700
    _agrees(s, pool)


def test_status_follows_release_quarantine_transit_issue_and_fate() -> None:
    s = scene()
    whole = s.collect()
    uid, _ = s.split(whole)
    s.test_all(din(1))
    seen = []

    def step(type: str, data: dict[str, object], site: str, role: str) -> None:
        s.do(type, {"unit_id": uid, **data}, actor(role, site))
        seen.append(unit(fold(s.stored()), uid)["status"])

    step("UnitReleased", {}, "BB1", "processing")
    step("UnitQuarantined", {"reason": "suspect"}, "BB1", "processing")
    step("QuarantineLifted", {"reason": "cleared"}, "BB1", "processing")
    step("UnitShipped", {"from_site_id": "BB1", "to_site_id": "H1", "shipment_id": "S1"},
         "BB1", "inventory")
    step("UnitReceived", {"site_id": "H1", "shipment_id": "S1", "accepted": True}, "H1",
         "hospital")
    step("UnitReserved", {"patient_id": "PAT-9", "patient_abo": "O", "patient_rhd": "NEG",
                          "crossmatch": "compatible"}, "H1", "hospital")
    step("UnitIssued", {"patient_id": "PAT-9"}, "H1", "hospital")
    step("UnitReturned", {"reason": "not needed"}, "H1", "hospital")
    s.later(hours=1)
    step("UnitDiscarded", {"reason": "damaged", "note": "bag torn"}, "H1", "hospital")
    assert seen == ["released", "quarantined", "released", "in_transit", "released", "reserved",
                    "issued", "released", "discarded"]
    t = fold(s.stored())
    u = unit(t, uid)
    assert (u["rhd"], u["custodian_site_id"], u["fate_site_id"], u["in_stock"]) == (
        "NEG", "H1", "H1", False)
    assert u["shipment_id"] is None  # the journey ended at receipt, as the writer says
    fates = rows(t, "rm_fates")
    assert [(f["fate"], f["reason"], f["site_id"], f["abo"]) for f in fates] == [
        ("discarded", "damaged", "H1", "O")]
    _agrees(s, uid)


def test_transfusion_records_the_recipient_a_fate_row_and_reaction_counts() -> None:
    s = scene()
    uid = s.released_component()
    s.reserve(uid, "PAT-1")
    s.issue(uid, "PAT-1")
    s.do("TransfusionStarted", {"unit_id": uid, "patient_id": "PAT-1",
        "bedside_check": BEDSIDE}, actor("hospital", "H1"))
    s.do("UnitTransfused", {"unit_id": uid, "patient_id": "PAT-1"}, actor("hospital", "H1"))
    s.do("AdverseReactionReported", {"unit_id": uid, "patient_id": "PAT-1",
                                     "reaction_type": "fnhtr", "severity": "non_severe",
                                     "imputability": "possible"}, actor("hospital", "H1"))
    t = fold(s.stored())
    u = unit(t, uid)
    assert (u["recipient_patient_id"], u["status"], u["adverse_reactions"]) == (
        "PAT-1", "transfused", 1)
    assert [f["fate"] for f in rows(t, "rm_fates")] == ["transfused"]
    _agrees(s, uid)


def test_fractionation_hands_the_plasma_to_the_fractionator() -> None:
    s = scene()
    plasma = s.released_component(category="plasma", at_site="BB1")
    s.do("UnitShippedForFractionation", {"unit_id": plasma, "fractionator_site_id": "FR1"},
         actor("inventory", "BB1"))
    u = unit(fold(s.stored()), plasma)
    assert (u["status"], u["custodian_site_id"], u["fate_site_id"]) == (
        "fractionated", "FR1", "FR1")
    _agrees(s, plasma)


def test_events_that_concern_no_unit_make_no_unit_row() -> None:
    s = scene()
    s.new_donor()
    assert rows(fold(s.stored()), "rm_units") == []


def test_site_register() -> None:
    s = scene()
    assert fold(s.stored())["rm_sites"][("H1",)]["kind"] == "hospital"
