"""Pure recall rules: when a donor is due again, confirmed positives, retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.events.catalogue_parts import DonorRules
from app.events.recall import confirmed_positives, due_since, eligible_from, past_retention
from app.events.state import Deferral, DonorDonation, DonorState

T0 = datetime(2026, 1, 1, tzinfo=UTC)
RULES = DonorRules()


def donor(sex: str = "F", *given: tuple[int, str], deferrals: tuple[Deferral, ...] = ()
          ) -> DonorState:
    return DonorState(donor_id="d1", sex=sex, deferrals=deferrals, donations=tuple(
        DonorDonation(din=f"A99992600000{i}", collected_at=T0 + timedelta(days=day),
                      collection_type=kind) for i, (day, kind) in enumerate(given)))


def test_a_donor_is_due_once_the_interval_for_their_sex_has_passed() -> None:
    woman, man = donor("F", (0, "whole_blood")), donor("M", (0, "whole_blood"))
    assert eligible_from(woman, RULES) == T0 + timedelta(days=84)
    assert eligible_from(man, RULES) == T0 + timedelta(days=56)
    assert due_since(woman, RULES, T0 + timedelta(days=83)) is None
    assert due_since(woman, RULES, T0 + timedelta(days=90)) == T0 + timedelta(days=84)
    assert due_since(donor("F"), RULES, T0) is None  # never gave


def test_the_latest_bound_over_every_donation_counts() -> None:
    d = donor("M", (0, "whole_blood"), (50, "apheresis_plasma"))
    assert eligible_from(d, RULES) == T0 + timedelta(days=56)
    assert eligible_from(d, RULES, "apheresis_plasma") == T0 + timedelta(days=52)


def test_a_deferred_donor_is_not_due_and_a_confirmed_positive_is_listed() -> None:
    permanent = Deferral(deferral_id="x", cause="infectious_marker", reason="HIV confirmed",
                         since=T0, marker="HIV")
    pending = Deferral(deferral_id="y", cause="infectious_marker", reason="repeat reactive",
                       since=T0, marker="HCV", pending_confirmation=True)
    d = donor("M", (0, "whole_blood"), deferrals=(permanent, pending))
    later = T0 + timedelta(days=100)
    assert due_since(d, RULES, later) is None
    assert confirmed_positives(d, later) == (permanent,)


def test_retention_runs_from_the_last_donation_or_registration() -> None:
    d = donor("M", (0, "whole_blood"), (365, "whole_blood"))
    last = T0 + timedelta(days=365)
    assert past_retention(d, T0, 30, last.replace(year=last.year + 30) - timedelta(1)) is None
    assert past_retention(d, T0, 30, last.replace(year=2100)) == last.replace(year=last.year + 30)
    leap = datetime(2024, 2, 29, tzinfo=UTC)
    assert past_retention(donor("F"), leap, 1, datetime(2026, 1, 1, tzinfo=UTC)) == datetime(
        2025, 2, 28, tzinfo=UTC)
