"""Pure recall rules over a donor's state (issue 19 §4): when a donor may give again, who is
due, who must be told of a confirmed positive, and who is past retention. The clock is an
argument; nothing here reads one."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.events.catalogue_parts import DonorRules
from app.events.state import Deferral, DonorState

WHOLE_BLOOD = "whole_blood"


def eligible_from(donor: DonorState, rules: DonorRules, following: str = WHOLE_BLOOD
                  ) -> datetime | None:
    """The first moment the interval matrix lets the donor give ``following`` again: the
    latest bound over every earlier donation. None for a donor who never gave."""
    if not donor.donations:
        return None
    return max(given.collected_at + timedelta(
        days=rules.interval_days(given.collection_type, following, donor.sex))
        for given in donor.donations)


def due_since(donor: DonorState, rules: DonorRules, now: datetime,
              following: str = WHOLE_BLOOD) -> datetime | None:
    """When the donor became due again, if they are due now: the interval has passed and no
    deferral is active. None when not due (never gave, too soon, or deferred)."""
    eligible = eligible_from(donor, rules, following)
    if eligible is None or eligible > now or donor.deferred_at(now):
        return None
    return eligible


def confirmed_positives(donor: DonorState, now: datetime) -> tuple[Deferral, ...]:
    """The donor's active permanent deferrals for an infectious marker: a confirmed positive
    the donor must be told about."""
    return tuple(x for x in donor.active_deferrals(now)
                 if x.cause == "infectious_marker" and x.permanent)


def last_donation_at(donor: DonorState) -> datetime | None:
    return max((given.collected_at for given in donor.donations), default=None)


def past_retention(donor: DonorState, registered_at: datetime, years: int, now: datetime
                   ) -> datetime | None:
    """When the donor's identity passed its retention (``years`` after the last donation, or
    after registration for one who never gave); None while it is still kept."""
    start = last_donation_at(donor) or registered_at
    try:
        ends = start.replace(year=start.year + years)
    except ValueError:  # 29 February
        ends = start.replace(year=start.year + years, day=28)
    return ends if ends <= now else None
