"""RULES §4 (deferral sets) and §8 (post-donation information): given a donor's deferrals,
when a collection, a reinstatement or new information comes, then every active deferral
counts, reinstatement ends one named deferral, and the donor's units in stock are held."""

from __future__ import annotations

from datetime import timedelta

from tests.support.scene import Scene, actor, din, scene

COLLECTOR = actor("collector", "BB1")
PROCESSING = actor("processing", "BB1")
LAB = actor("lab", "LAB1")


def collect_refusal(s: Scene, donor: str, n: int = 50) -> str:
    return s.refuse("DonationCollected", {
        "din": din(n), "donor_id": donor, "site_id": "BB1", "collection_type": "whole_blood",
        "product_code": "E0001V00", "category": "whole_blood", "volume_ml": 450},
        COLLECTOR).rule


def repeatedly_reactive(s: Scene, donor: str, marker: str = "HIV") -> str:
    unit = s.collect(donor_id=donor)
    din_ = unit.split("-")[0]
    for kind, value in (("screen", "reactive"), ("repeat", "reactive")):
        s.do("TestResultRecorded", {"din": din_, "marker": marker, "result": value,
                                    "lab_site_id": "LAB1", "test_kind": kind}, LAB)
    return din_


def test_deferrals_are_a_set_a_later_temporary_one_never_shortens_a_permanent_one() -> None:
    """Review: a later temporary deferral replaced a permanent one, so a donor deferred after
    a reactive HIV became collectable again because of a travel deferral."""
    s = scene()
    donor = s.new_donor()
    repeatedly_reactive(s, donor)
    s.do("DonorDeferred", {"donor_id": donor, "reason": "travel", "cause": "travel",
                           "until": (s.now + timedelta(days=28)).date().isoformat()}, COLLECTOR)
    s.later(days=60)
    assert [d.cause for d in s.donor(donor).active_deferrals(s.now)] == ["infectious_marker"]
    assert collect_refusal(s, donor) == "donor-deferred"


def test_reinstatement_names_the_deferral_it_ends() -> None:
    """Review: DonorReinstated ended any deferral on the strength of free text."""
    s = scene()
    donor = s.new_donor()
    for cause, reason in (("low_haemoglobin", "Hb 118"), ("travel", "malaria area")):
        s.do("DonorDeferred", {"donor_id": donor, "reason": reason, "cause": cause}, COLLECTOR)
    err = s.refuse("DonorReinstated", {"donor_id": donor, "reason": "ok now"}, PROCESSING)
    assert err.rule == "deferral-id-required"
    [low_hb, travel] = s.donor(donor).deferrals
    s.do("DonorReinstated", {"donor_id": donor, "reason": "Hb 131 today",
                             "deferral_id": low_hb.deferral_id}, PROCESSING)
    assert [d.deferral_id for d in s.donor(donor).active_deferrals(s.now)] == [
        travel.deferral_id]
    assert s.refuse("DonorReinstated", {"donor_id": donor, "reason": "again",
                                        "deferral_id": low_hb.deferral_id},
                    PROCESSING).rule == "donor-not-deferred"
    assert s.refuse("DonorReinstated", {"donor_id": donor, "reason": "x",
                                        "deferral_id": "NO-SUCH"},
                    PROCESSING).rule == "deferral-not-found"
    [ended, _] = s.donor(donor).deferrals
    assert (ended.ended_reason, ended.ended_at is not None) == ("Hb 131 today", True)


def test_infectious_marker_deferral_ends_only_after_a_confirmatory_negative() -> None:
    s = scene()
    donor = s.new_donor()
    din_ = repeatedly_reactive(s, donor)
    [pending] = s.donor(donor).active_deferrals(s.now)
    reinstate = {"donor_id": donor, "reason": "looks fine", "deferral_id": pending.deferral_id}
    assert s.refuse("DonorReinstated", reinstate, PROCESSING).rule == (
        "confirmatory-negative-required")
    s.do("TestResultRecorded", {"din": din_, "marker": "HIV", "result": "negative",
                                "lab_site_id": "LAB1", "test_kind": "confirmatory"}, LAB)
    assert s.refuse("DonorReinstated", reinstate, COLLECTOR).rule == "role-not-allowed"
    s.do("DonorReinstated", reinstate, PROCESSING)
    assert not s.donor(donor).deferred_at(s.now)


def test_post_donation_information_holds_every_live_unit_since_the_date() -> None:
    """Review: a manual deferral after post-donation information left the donor's in-date
    units in stock."""
    s = scene()
    donor = s.new_donor()
    old = s.collect(donor_id=donor)
    s.later(days=70)
    recent = s.collect(2, donor_id=donor)
    red, plasma = s.split(recent)
    s.test_all(din(2))
    s.release(red)
    s.receive(red, s.ship(red, "H1"))
    since = (s.now - timedelta(days=30)).isoformat()
    events = s.do("PostDonationInformationReceived", {
        "donor_id": donor, "information": "jaundice a week after donating", "since": since},
        COLLECTOR)
    held = [e.data.unit_id for e in events[1:]]  # type: ignore[attr-defined]
    assert sorted(held) == sorted([red, plasma])
    assert all(e.refs >= {("site", "H1")} for e in events[1:] if e.data.unit_id == red)
    assert not s.unit(old).quarantined  # collected before ``since``
    assert [h.cause for h in s.unit(red).open_holds] == ["post_donation_information"]


def test_post_donation_information_only_from_a_site_that_collected_from_the_donor() -> None:
    """Security probe: any site's collector could hold every unit of any donor in the
    country. The information is recorded where the donor gave (or by its lab)."""
    s = scene()
    donor = s.new_donor()
    unit = s.collect(donor_id=donor)
    info = {"donor_id": donor, "information": "fever", "since": "2025-01-01"}
    err = s.refuse("PostDonationInformationReceived", info, actor("collector", "BB2"))
    assert (err.rule, err.field) == ("donor-out-of-scope", "data.donor_id")
    assert not s.unit(unit).quarantined
    s.do("PostDonationInformationReceived", info, COLLECTOR)
    assert s.unit(unit).quarantined

