"""Testing, release, quarantine, and the cascade of a reactive result."""

from __future__ import annotations

from uuid import uuid5

import pytest

from app.api.problems import http_status
from app.errors import (
    DonationNotFound,
    HoldIdRequired,
    HoldNotFound,
    HoldUnresolved,
    SiteKindNotAllowed,
    SiteScopeViolation,
    TestsIncomplete,
    UnitAlreadyReleased,
    UnitQuarantinedError,
)
from app.events import isbt
from tests.support.scene import PLATELETS, RED_CELLS, T0, actor, body, din, scene

LAB = actor("lab", "LAB1")
PROCESSING = actor("processing", "BB1")


def result(din_: str, marker: str, value: str, lab: str = "LAB1",
           kind: str | None = None) -> dict[str, str]:
    data = {"din": din_, "marker": marker, "result": value, "lab_site_id": lab}
    return data | ({"test_kind": kind} if kind else {})


def test_a_result_is_recorded_per_marker_on_the_donation_stream() -> None:
    s = scene()
    parent = s.collect()
    [event] = s.do("TestResultRecorded", result(din(1), "hiv", "NON_REACTIVE"), LAB)
    assert event.stream == f"donation:{din(1)}"
    assert body(event) == result(din(1), "HIV", "non_reactive", kind="screen")
    assert ("donation", din(1)) in event.refs and ("site", "LAB1") in event.refs
    [kept] = s.donation(din(1)).results
    assert (kept.marker, kept.kind, kept.result, kept.position) == (
        "HIV", "screen", "non_reactive", event.position)
    assert s.unit(parent).status == "unreleased"


@pytest.mark.parametrize(("marker", "given", "stored"), [
    ("ABO", "0", "O"), ("ABO", "62", "A"), ("RHD", "+", "POS"), ("RHD", "negative", "NEG"),
])
def test_group_results_accept_isbt_and_plain_forms(marker: str, given: str, stored: str) -> None:
    s = scene()
    s.collect()
    [event] = s.do("TestResultRecorded", result(din(1), marker, given), LAB)
    assert body(event)["result"] == stored


def test_the_lab_needs_no_custody_but_must_be_a_lab() -> None:
    s = scene()
    s.collect()   # held by BB1; the lab is LAB1
    s.do("TestResultRecorded", result(din(1), "HIV", "non_reactive"), LAB)
    err = s.refuse("TestResultRecorded", result(din(1), "HIV", "non_reactive", "H1"),
                   actor("lab", "H1"))
    assert isinstance(err, SiteKindNotAllowed)
    err = s.refuse("TestResultRecorded", result(din(1), "HIV", "non_reactive", "BB2"), LAB)
    assert isinstance(err, SiteScopeViolation)


def test_results_need_a_collected_donation() -> None:
    err = scene().refuse("TestResultRecorded", result(din(5), "HIV", "reactive"), LAB)
    assert isinstance(err, DonationNotFound)


def test_a_second_abo_result_must_agree() -> None:
    """A discordant group is recorded, never refused and lost: it holds every unit of the
    donation, and release is refused until a confirmatory result settles it (RULES §3)."""
    s = scene()
    unit = s.collect()
    s.test_all(din(1), "A", "POS")
    s.do("TestResultRecorded", result(din(1), "ABO", "A"), LAB)
    recorded, held = s.do("TestResultRecorded", result(din(1), "ABO", "B"), LAB)
    assert (recorded.type, held.type) == ("TestResultRecorded", "UnitQuarantined")
    assert (body(held)["cause"], body(held)["marker"]) == ("abo_discrepancy", "ABO")
    assert [r.result for r in s.donation(din(1)).results if r.marker == "ABO"] == ["A", "A", "B"]
    assert s.unit(unit).abo is None  # undetermined while discrepant
    assert isinstance(s.refuse("UnitReleased", {"unit_id": unit}, PROCESSING),
                      UnitQuarantinedError)


def test_release_with_every_mandatory_marker_negative_and_group_known() -> None:
    s = scene()
    red, _ = s.split(s.collect(at=T0))
    s.test_all(din(1), "B", "POS")
    [event] = s.do("UnitReleased", {"unit_id": red}, PROCESSING)
    assert body(event)["abo"] == "B" and body(event)["rhd"] == "POS"
    assert body(event)["based_on"] == [r.position for r in s.donation(din(1)).results]
    assert body(event)["category"] == "red_cells"
    assert body(event)["expires_at"] == "2025-04-05T08:00:00.000000Z"
    assert s.unit(red).status == "released"
    assert isinstance(s.refuse("UnitReleased", {"unit_id": red}, PROCESSING),
                      UnitAlreadyReleased)


@pytest.mark.parametrize("missing", ["HIV", "HBV", "HCV", "SYPHILIS", "ABO", "RHD"])
def test_release_is_refused_while_any_mandatory_test_is_missing(missing: str) -> None:
    s = scene()
    unit = s.collect()
    for marker, value in (("HIV", "non_reactive"), ("HBV", "non_reactive"),
                          ("HCV", "non_reactive"), ("SYPHILIS", "non_reactive"), ("ABO", "O"),
                          ("RHD", "POS")):
        if marker != missing:
            s.do("TestResultRecorded", result(din(1), marker, value), LAB)
    err = s.refuse("UnitReleased", {"unit_id": unit}, PROCESSING)
    assert isinstance(err, TestsIncomplete) and http_status(err) == 409


def test_an_indeterminate_result_blocks_release() -> None:
    s = scene()
    unit = s.collect()
    s.test_all(din(1), results={"HCV": "indeterminate"})
    [hold] = s.unit(unit).open_holds
    assert (hold.cause, hold.marker, hold.din) == ("test", "HCV", din(1))
    assert isinstance(s.refuse("UnitReleased", {"unit_id": unit}, PROCESSING),
                      UnitQuarantinedError)


def test_a_reactive_marker_quarantines_every_sibling_and_defers_the_donor() -> None:
    """An initially reactive screen holds every live sibling, at any site, in the same
    decision; the donor is deferred (pending confirmation) once a repeat is reactive."""
    s = scene()
    donor = s.new_donor()
    parent = s.collect(donor_id=donor)
    red, plasma, plt = s.split(parent, [(RED_CELLS, "red_cells", 250),
                                        ("E2555V00", "plasma", 150), (PLATELETS, "platelets", 50)])
    s.test_all(din(1))
    s.release(red)
    s.receive(red, s.ship(red, "H1"))
    s.do("UnitDiscarded", {"unit_id": plt, "reason": "damaged", "note": "bag torn"},
         actor("inventory", "BB1"))
    cmd_events = s.do("TestResultRecorded", result(din(1), "HBV", "reactive"), LAB)
    first, *derived = cmd_events
    assert first.type == "TestResultRecorded"
    quarantined = [e for e in derived if e.type == "UnitQuarantined"]
    # The consumed parent and the discarded platelets are not in stock; the rest are, at any site.
    assert [body(e)["unit_id"] for e in quarantined] == [red, plasma] == [
        body(e)["unit_id"] for e in derived]
    assert all(body(e)["cause"] == "test" and body(e)["marker"] == "HBV" for e in quarantined)
    for i, e in enumerate(derived, start=1):
        assert e.event_id == uuid5(first.event_id, str(i))
        assert body(e)["cause_event_id"] == str(first.event_id)
    assert s.unit(red).quarantined and s.unit(plasma).quarantined
    assert not s.donor(donor).deferred_at(s.now)  # initially reactive: not deferred yet
    first, *derived = s.do("TestResultRecorded", result(din(1), "HBV", "reactive", kind="repeat"),
                           LAB)
    [deferral] = derived
    assert deferral.type == "DonorDeferred" and body(deferral)["donor_id"] == donor
    assert "until" not in body(deferral) and body(deferral)["pending_confirmation"] is True
    [active] = s.donor(donor).active_deferrals(s.now)
    assert (active.cause, active.marker, active.until) == ("infectious_marker", "HBV", None)


def test_a_reactive_result_reaches_a_pool_made_from_the_donation() -> None:
    s = scene()
    plts = []
    for _ in range(2):
        parent = s.collect()
        plts.append(s.split(parent, [(RED_CELLS, "red_cells", 250),
                                     (PLATELETS, "platelets", 50)])[1])
        s.test_all(isbt.din_of_unit(parent), "A", "POS")
    s.do("UnitsPooled", {"parent_unit_ids": plts, "din": din(900), "product_code": "E3090V00",
                         "category": "platelets", "volume_ml": 100}, PROCESSING)
    pool = f"{din(900)}-E3090V00"
    events = s.do("TestResultRecorded",
                  result(isbt.din_of_unit(plts[1]), "SYPHILIS", "reactive"), LAB)
    assert pool in {body(e).get("unit_id") for e in events if e.type == "UnitQuarantined"}
    assert s.unit(pool).quarantined
    assert isinstance(s.refuse("UnitReleased", {"unit_id": pool}, PROCESSING),
                      UnitQuarantinedError)


def test_a_later_negative_result_does_not_clear_a_reactive_one() -> None:
    s = scene()
    unit = s.collect()
    s.test_all(din(1), results={"HIV": "reactive"})
    s.do("TestResultRecorded", result(din(1), "HIV", "non_reactive"), LAB)
    err = s.refuse("QuarantineLifted", {"unit_id": unit, "reason": "retest negative"},
                   PROCESSING)
    assert isinstance(err, HoldUnresolved)
    assert isinstance(s.refuse("UnitReleased", {"unit_id": unit}, PROCESSING),
                      UnitQuarantinedError)


def test_a_non_mandatory_reactive_marker_does_not_cascade() -> None:
    s = scene()
    s.collect()
    events = s.do("TestResultRecorded", result(din(1), "CMV", "reactive"), LAB)
    assert [e.type for e in events] == ["TestResultRecorded"]


def test_quarantine_and_lifting_each_record_a_reason() -> None:
    s = scene()
    unit = s.collect()
    [q] = s.do("UnitQuarantined", {"unit_id": unit, "reason": "lipaemic"}, PROCESSING)
    assert body(q) == {"unit_id": unit, "reason": "lipaemic", "cause": "manual",
                       "hold_id": str(q.event_id)}
    # A second hold is a second reason: both stay until each is lifted (RULES §2).
    [again] = s.do("UnitQuarantined", {"unit_id": unit, "reason": "again"}, PROCESSING)
    assert s.unit(unit).hold(str(again.event_id)) is not None
    assert s.refuse("QuarantineLifted", {"unit_id": unit}, PROCESSING).field == "data.reason"
    assert isinstance(s.refuse("QuarantineLifted", {"unit_id": unit, "reason": "x"},
                               PROCESSING), HoldIdRequired)
    s.do("QuarantineLifted", {"unit_id": unit, "reason": "reinspected: clear",
                              "hold_id": str(q.event_id)}, PROCESSING)
    assert s.unit(unit).quarantined
    s.do("QuarantineLifted", {"unit_id": unit, "reason": "clear too"}, PROCESSING)
    assert not s.unit(unit).quarantined
    assert [h.lifted_reason for h in s.unit(unit).holds] == ["reinspected: clear", "clear too"]
    assert isinstance(s.refuse("QuarantineLifted", {"unit_id": unit, "reason": "x"},
                               PROCESSING), HoldNotFound)


def test_a_client_cannot_forge_a_cause() -> None:
    s = scene()
    unit = s.collect()
    [q] = s.do("UnitQuarantined", {"unit_id": unit, "reason": "x", "cause_event_id": "forged"},
               PROCESSING)
    assert "cause_event_id" not in q.data


@pytest.mark.parametrize(("marker", "value"), [("HIV", "POS"), ("HCV", "O"), ("ABO", "reactive"),
                                               ("RHD", "AB"), ("HBV", "maybe")])
def test_a_result_must_fit_its_marker(marker: str, value: str) -> None:
    s = scene()
    s.collect()
    err = s.refuse("TestResultRecorded", result(din(1), marker, value), LAB)
    assert http_status(err) == 422
