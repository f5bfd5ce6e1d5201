"""RULES §1, time: given a step, when it is dated too far from the server clock or before the
unit's or donor's previous step, then it is refused naming the rule (issue 11 review: "a step
backdated by a week silently defeats expiry, the return window and donation intervals")."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

from tests.support.scene import actor, scene

COLLECTOR = actor("collector", "BB1")


def test_late_entry_bound_needs_a_reason() -> None:
    s = scene()
    donor = s.new_donor()
    cmd = s.command("DonorDeferred", {"donor_id": donor, "reason": "travel"}, COLLECTOR)
    week_old = replace(cmd, occurred_at=cmd.recorded_at - timedelta(days=7))
    err = s.refuse_command(week_old)
    assert (err.rule, err.field) == ("late-entry-reason-required", "late_entry_reason")
    # A registration entered from a week-old paper record, with its reason, keeps it.
    s2 = scene()
    [event] = s2.run(replace(s2.command("DonorRegistered", {"donor_id": "DNR-PAPER"},
                                        COLLECTOR), late_entry_reason="paper record",
                             occurred_at=s2.now - timedelta(days=7)))
    assert event.late_entry_reason == "paper record"


def test_late_entry_bound_is_72_hours_by_default() -> None:
    s = scene()
    cmd = s.command("DonorRegistered", {"donor_id": "DNR-71H"}, COLLECTOR)
    s.run(replace(cmd, occurred_at=cmd.recorded_at - timedelta(hours=71)))
    late = replace(cmd, event_id=uuid4(), data={"donor_id": "DNR-73H"},
                   occurred_at=cmd.recorded_at - timedelta(hours=73))
    assert s.refuse_command(late).rule == "late-entry-reason-required"


def test_future_skew_is_refused() -> None:
    s = scene()
    cmd = s.command("DonorRegistered", {"donor_id": "DNR-FUT"}, COLLECTOR)
    assert s.refuse_command(replace(cmd, occurred_at=cmd.recorded_at + timedelta(
        minutes=6))).rule == "occurred-in-future"
    s.run(replace(cmd, occurred_at=cmd.recorded_at + timedelta(minutes=4)))


def test_step_order_a_unit_step_may_not_be_dated_before_its_previous_step() -> None:
    s = scene()
    unit = s.collect()
    shipped_at = s.later(hours=2)
    s.do("UnitShipped", {"unit_id": unit, "from_site_id": "BB1", "to_site_id": "BB2",
                         "shipment_id": "SHP-ORDER"}, actor("inventory", "BB1"), shipped_at)
    err = s.refuse("UnitReceived", {"unit_id": unit, "site_id": "BB2",
                                    "shipment_id": "SHP-ORDER", "accepted": True},
                   actor("inventory", "BB2"), shipped_at - timedelta(minutes=30))
    assert (err.rule, err.field) == ("out-of-order", "occurred_at")


def test_step_order_a_backdated_collection_cannot_dodge_the_interval() -> None:
    s = scene()
    donor = s.new_donor()
    s.collect(donor_id=donor, at=s.later(days=1))
    err = s.refuse("DonationCollected", {
        "din": "A999925000777", "donor_id": donor, "site_id": "BB1",
        "collection_type": "whole_blood", "product_code": "E0001V00",
        "category": "whole_blood", "volume_ml": 450}, COLLECTOR, s.now - timedelta(days=70))
    assert err.rule == "out-of-order"


def test_step_order_a_backdated_release_cannot_beat_the_expiry() -> None:
    """The review's case: an expired unit released by dating the release before expiry."""
    s = scene()
    unit = s.collect()
    s.test_all(unit.split("-")[0])
    expired = s.unit(unit).expires_at + timedelta(hours=1)
    s.do("UnitStored", {"unit_id": unit, "site_id": "BB1", "location": "quarantine shelf"},
         actor("inventory", "BB1"), expired)
    err = s.refuse("UnitReleased", {"unit_id": unit}, actor("processing", "BB1"),
                   expired - timedelta(days=2))
    assert err.rule == "out-of-order"
    assert s.refuse("UnitReleased", {"unit_id": unit}, actor("processing", "BB1"),
                    expired).rule == "unit-expired"
