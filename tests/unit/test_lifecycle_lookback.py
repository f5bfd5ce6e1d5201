"""Lookback and recall: from a donor or a DIN, through splits and pools, to every holder."""

from __future__ import annotations

from datetime import timedelta

from app.errors import (
    AlreadyExists,
    DonationNotFound,
    DonorNotFound,
    InvalidEventData,
    LookbackAlreadyAcknowledged,
    LookbackNotFound,
    LookbackSiteMismatch,
    LookbackUnitUnknown,
    RoleNotAllowed,
)
from app.events import isbt
from tests.support.scene import BEDSIDE, PLATELETS, RED_CELLS, T0, Scene, actor, body, din, scene

PROCESSING = actor("processing", "BB1")
H1 = actor("hospital", "H1")


def donor_with_history(s: Scene) -> tuple[str, dict[str, str]]:
    """A donor with two donations: the first split, its red cells transfused at H1 and its
    platelets pooled with another donor's; the second still whole blood in stock."""
    donor = s.new_donor()
    first = s.collect(donor_id=donor, at=T0)
    red, plt = s.split(first, [(RED_CELLS, "red_cells", 250), (PLATELETS, "platelets", 50)])
    s.test_all(isbt.din_of_unit(first), "O", "POS")
    other = s.collect(at=T0 + timedelta(minutes=5))
    other_plt = s.split(other, [(RED_CELLS, "red_cells", 250), (PLATELETS, "platelets", 50)])[1]
    s.test_all(isbt.din_of_unit(other), "O", "POS")
    s.do("UnitsPooled", {"parent_unit_ids": [plt, other_plt], "din": din(900),
                         "product_code": "E3090V00", "category": "platelets",
                         "volume_ml": 100}, PROCESSING)
    pool = f"{din(900)}-E3090V00"
    s.release(red)
    s.receive(red, s.ship(red, "H1"))
    s.reserve(red, "PAT-0042", "O", "POS")
    s.issue(red, "PAT-0042")
    s.do("TransfusionStarted", {"unit_id": red, "patient_id": "PAT-0042",
        "bedside_check": BEDSIDE}, H1)
    s.do("UnitTransfused", {"unit_id": red, "patient_id": "PAT-0042"}, H1)
    second = s.collect(donor_id=donor, at=T0 + timedelta(days=60))
    s.now = T0 + timedelta(days=61)
    return donor, {"first": first, "red": red, "plt": plt, "pool": pool, "second": second}


def test_a_donor_lookback_follows_splits_and_pools_and_quarantines_stock() -> None:
    s = scene()
    donor, u = donor_with_history(s)
    first, *derived = s.do("LookbackStarted", {"lookback_id": "LB-1", "donor_id": donor,
                                               "marker": "hcv"}, PROCESSING)
    assert first.stream == "lookback:LB-1"
    assert body(first)["marker"] == "HCV"
    assert body(first)["dins"] == [isbt.din_of_unit(u["first"]), isbt.din_of_unit(u["second"])]
    found = {row["unit_id"]: row for row in body(first)["units"]}
    assert set(found) == {u["first"], u["red"], u["plt"], u["pool"], u["second"]}
    assert found[u["red"]]["status"] == "transfused"
    assert found[u["red"]]["custodian_site_id"] == "H1"
    assert found[u["red"]]["patient_id"] == "PAT-0042"
    assert found[u["pool"]]["status"] == "unreleased"
    assert {("unit", x) for x in u.values()} | {("donor", donor), ("lookback", "LB-1")} <= (
        first.refs)
    assert sorted(body(e)["unit_id"] for e in derived) == sorted([u["pool"], u["second"]])
    assert all(e.type == "UnitQuarantined" for e in derived)
    assert s.unit(u["pool"]).quarantined and s.unit(u["second"]).quarantined


def test_since_limits_a_donor_lookback_to_later_donations() -> None:
    s = scene()
    donor, u = donor_with_history(s)
    [first, *derived] = s.do("LookbackStarted", {
        "lookback_id": "LB-2", "donor_id": donor, "marker": "HIV",
        "since": (T0 + timedelta(days=30)).date().isoformat()}, PROCESSING)
    assert [row["unit_id"] for row in body(first)["units"]] == [u["second"]]
    assert [body(e)["unit_id"] for e in derived] == [u["second"]]


def test_a_din_lookback_follows_one_donation() -> None:
    s = scene()
    _, u = donor_with_history(s)
    [first, *_] = s.do("LookbackStarted", {"lookback_id": "LB-3", "marker": "HBV",
                                           "din": isbt.din_of_unit(u["first"])}, PROCESSING)
    assert u["second"] not in {row["unit_id"] for row in body(first)["units"]}
    assert u["pool"] in {row["unit_id"] for row in body(first)["units"]}


def test_a_lookback_names_a_known_source_exactly_once() -> None:
    s = scene()
    assert isinstance(s.refuse("LookbackStarted", {"lookback_id": "L", "marker": "HIV"},
                               PROCESSING), InvalidEventData)
    assert isinstance(s.refuse("LookbackStarted", {"lookback_id": "L", "marker": "HIV",
                                                   "donor_id": "DNR-404"}, PROCESSING),
                      DonorNotFound)
    assert isinstance(s.refuse("LookbackStarted", {"lookback_id": "L", "marker": "HIV",
                                                   "din": din(404)}, PROCESSING),
                      DonationNotFound)
    donor = s.new_donor()
    s.collect(donor_id=donor)
    s.do("LookbackStarted", {"lookback_id": "L", "marker": "HIV", "donor_id": donor},
         PROCESSING)
    assert isinstance(s.refuse("LookbackStarted", {"lookback_id": "L", "marker": "HIV",
                                                   "donor_id": donor}, PROCESSING),
                      AlreadyExists)


def test_hospitals_acknowledge_the_units_they_hold_or_transfused() -> None:
    s = scene()
    donor, u = donor_with_history(s)
    s.do("LookbackStarted", {"lookback_id": "LB-1", "donor_id": donor, "marker": "HCV"},
         PROCESSING)
    ack = {"lookback_id": "LB-1", "site_id": "H1", "unit_id": u["red"]}
    [event] = s.do("LookbackAcknowledged", ack, H1)
    assert event.stream == "lookback:LB-1"
    assert {("lookback", "LB-1"), ("unit", u["red"]), ("site", "H1")} <= event.refs
    assert isinstance(s.refuse("LookbackAcknowledged", ack, H1), LookbackAlreadyAcknowledged)
    err = s.refuse("LookbackAcknowledged", {**ack, "site_id": "H2", "unit_id": u["red"]},
                   actor("hospital", "H2"))
    assert isinstance(err, LookbackSiteMismatch)
    err = s.refuse("LookbackAcknowledged", {**ack, "unit_id": f"{din(404)}-E0001V00"}, H1)
    assert isinstance(err, LookbackUnitUnknown)
    err = s.refuse("LookbackAcknowledged", {**ack, "lookback_id": "LB-404"}, H1)
    assert isinstance(err, LookbackNotFound)
    s.do("LookbackAcknowledged", {"lookback_id": "LB-1", "site_id": "BB1",
                                  "unit_id": u["pool"]}, actor("inventory", "BB1"))


def test_a_hospital_cannot_start_a_lookback() -> None:
    s = scene()
    donor = s.new_donor()
    err = s.refuse("LookbackStarted", {"lookback_id": "L", "marker": "HIV", "donor_id": donor},
                   H1)
    assert isinstance(err, RoleNotAllowed)


def test_annotations_follow_final_fates() -> None:
    s = scene()
    donor, u = donor_with_history(s)
    s.do("AdverseReactionReported", {"unit_id": u["red"], "patient_id": "PAT-0042",
                                     "reaction_type": "fnhtr", "severity": "non_severe",
                                     "imputability": "possible"}, H1)
    s.do("LookbackStarted", {"lookback_id": "LB-1", "donor_id": donor, "marker": "HCV"},
         PROCESSING)
    s.do("LookbackAcknowledged", {"lookback_id": "LB-1", "site_id": "H1",
                                  "unit_id": u["red"]}, H1)
    assert s.unit(u["red"]).status == "transfused"
