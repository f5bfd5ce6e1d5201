"""RULES §4, donors: given a donor's sex, screenings and donations, when a collection comes,
then it needs a passing screening at that site just before, the interval the previous
procedure and the donor's sex require, and room under the annual caps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.events.catalogue import Catalogue
from app.events.catalogue_parts import DonorRules
from tests.support.scene import Scene, actor, din, scene

COLLECTOR = actor("collector", "BB1")
KINDS = {"whole_blood": ("whole_blood", "E0001V00", 450),
         "apheresis_plasma": ("plasma", "E4712V00", 600),
         "apheresis_platelets": ("platelets", "E3087V00", 250)}


def collection(n: int, donor: str, kind: str = "whole_blood", site: str = "BB1",
               volume_ml: int | None = None) -> dict[str, object]:
    category, code, volume = KINDS[kind]
    return {"din": din(n), "donor_id": donor, "site_id": site, "collection_type": kind,
            "product_code": code, "category": category, "volume_ml": volume_ml or volume}


def unscreened() -> Scene:
    s = scene()
    s.screen_before_collection = False
    return s


def test_screening_required_at_the_same_site_in_the_24_hours_before() -> None:
    s = unscreened()
    donor = s.new_donor(sex="F")
    assert s.refuse("DonationCollected", collection(1, donor),
                    COLLECTOR).rule == "donor-screening-required"
    s.screen(donor, "BB2", at=s.now)
    assert s.refuse("DonationCollected", collection(1, donor),
                    COLLECTOR).rule == "donor-screening-required"
    s.screen(donor, "BB1", hb_g_l=131)
    s.later(hours=25)
    assert s.refuse("DonationCollected", collection(1, donor),
                    COLLECTOR).rule == "donor-screening-required"
    s.screen(donor, "BB1", hb_g_l=131)
    s.do("DonationCollected", collection(1, donor), COLLECTOR)


@pytest.mark.parametrize(("sex", "hb", "allowed"), [
    ("F", 124, False), ("F", 125, True), ("M", 134, False), ("M", 135, True),
    ("X", 134, False), (None, 134, False), (None, 135, True)])
def test_screening_haemoglobin_limits_by_sex(sex: str | None, hb: int, allowed: bool) -> None:
    s = unscreened()
    donor = s.new_donor(sex=sex)
    s.screen(donor, "BB1", hb_g_l=hb)
    if allowed:
        s.do("DonationCollected", collection(1, donor), COLLECTOR)
    else:
        err = s.refuse("DonationCollected", collection(1, donor), COLLECTOR)
        assert (err.rule, err.extra["hb_g_l"]) == ("donor-screening-failed", hb)


def test_screening_that_did_not_pass_refuses_the_collection() -> None:
    s = unscreened()
    donor = s.new_donor(sex="M")
    s.screen(donor, "BB1", hb_g_l=150, passed=False)
    assert s.refuse("DonationCollected", collection(1, donor),
                    COLLECTOR).rule == "donor-screening-failed"


def test_interval_matrix_whole_blood_after_plateletpheresis_is_not_held_back() -> None:
    """Review: whole blood was refused 10 days after a plateletpheresis (the maximum of both
    procedures' intervals was taken)."""
    s = scene()
    donor = s.new_donor(sex="M")
    s.do("DonationCollected", collection(1, donor, "apheresis_platelets"), COLLECTOR)
    s.later(days=10)
    s.do("DonationCollected", collection(2, donor), COLLECTOR)


def test_interval_matrix_women_wait_longer_between_whole_blood_donations() -> None:
    s = scene()
    donor = s.new_donor(sex="F")
    s.do("DonationCollected", collection(1, donor), COLLECTOR)
    s.later(days=60)
    err = s.refuse("DonationCollected", collection(2, donor), COLLECTOR)
    assert (err.rule, err.extra["previous_din"]) == ("donation-interval", din(1))
    s.later(days=24)
    s.do("DonationCollected", collection(2, donor), COLLECTOR)


def test_annual_cap_whole_blood_three_for_women_four_for_men() -> None:
    for sex, cap in (("F", 3), ("M", 4)):
        s = scene()
        donor = s.new_donor(sex=sex)
        gap = 84 if sex == "F" else 56
        for n in range(1, cap + 1):
            s.do("DonationCollected", collection(n, donor), COLLECTOR)
            s.later(days=gap)
        assert s.now - s.unit(f"{din(1)}-E0001V00").collected_at < timedelta(days=365)
        err = s.refuse("DonationCollected", collection(cap + 1, donor), COLLECTOR)
        assert err.rule == "annual-limit", sex


def test_annual_cap_plasma_volume_15_litres() -> None:
    s = Scene(Catalogue(donors=DonorRules(plasma_ml_per_year=1500))).network()
    donor = s.new_donor(sex="M")
    s.do("DonationCollected", collection(1, donor, "apheresis_plasma", volume_ml=800),
         COLLECTOR)
    s.later(days=3)
    err = s.refuse("DonationCollected", collection(2, donor, "apheresis_plasma",
                                                   volume_ml=800), COLLECTOR)
    assert (err.rule, err.field) == ("annual-limit", "data.volume_ml")
    s.do("DonationCollected", collection(2, donor, "apheresis_plasma", volume_ml=700),
         COLLECTOR)


def test_donor_records_sex_and_birth_year() -> None:
    s = scene()
    donor = s.new_donor(sex="X", birth_year=1988)
    assert (s.donor(donor).sex, s.donor(donor).birth_year) == ("X", 1988)
    assert s.refuse("DonorRegistered", {"donor_id": "DNR-BAD", "sex": "male"},
                    COLLECTOR).rule == "invalid-event-data"


def test_intended_use_a_directed_donation_names_its_recipient() -> None:
    s = scene()
    donor = s.new_donor()
    data = collection(1, donor) | {"intended_use": "directed"}
    assert s.refuse("DonationCollected", data, COLLECTOR).rule == "invalid-event-data"
    s.do("DonationCollected", data | {"intended_recipient_id": "PAT-DIR-1"}, COLLECTOR)
    unit = s.unit(f"{din(1)}-E0001V00")
    assert (unit.intended_use, unit.intended_recipient_id) == ("directed", "PAT-DIR-1")
    red = s.split(unit.unit_id)[0]
    assert s.unit(red).intended_recipient_id == "PAT-DIR-1"  # components keep it
