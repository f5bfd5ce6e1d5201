"""When a donor may give again, as the sim reckons it from the catalogue's numbers (RULES
§4): the interval from each earlier procedure to the next one, for the donor's sex, and the
annual caps (whole-blood donations by sex, apheresis procedures, plasma volume).

The sim counts in whole days: a donation on day ``d`` allows the next one ``n`` days later
from day ``d + n + 1`` on, whatever the hours, and leaves every 12-month window from day
``d + 366`` on.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.events.catalogue_parts import DonorRules
from app.sim.model import Donation

YEAR = 366
"""Days after which a donation is surely out of the catalogue's 12 months."""
VOLUME_SPREAD = 20
"""How far a collected volume may be from the product's nominal volume (mL)."""


def interval_day(rules: DonorRules, sex: str | None, given: Sequence[Donation],
                 collection_type: str) -> int:
    """The first day the intervals from every earlier procedure allow ``collection_type``."""
    day = 0
    for earlier in given:
        days = rules.interval_days(str(earlier.collection_type), collection_type, sex)
        day = max(day, earlier.day + days + 1)
    return day


def earliest_day(rules: DonorRules, sex: str | None, given: Sequence[Donation],
                 collection_type: str, volume_ml: int) -> int:
    """The first day a donor who gave ``given`` may give ``collection_type`` (of up to
    ``volume_ml``): the intervals allow it and one more fits the annual caps."""
    day = interval_day(rules, sex, given, collection_type)
    while True:
        later = _within_caps(rules, sex, given, collection_type, volume_ml, day)
        if later == day:
            return day
        day = later


def _within_caps(rules: DonorRules, sex: str | None, given: Sequence[Donation],
                 collection_type: str, volume_ml: int, day: int) -> int:
    """``day``, or the first day one more donation fits the caps of the 12 months before."""
    inside = [g for g in given if g.day > day - YEAR]
    if collection_type == "whole_blood":
        cap = rules.whole_blood_cap(sex)
        counted = sorted(g.day for g in inside if g.collection_type == "whole_blood")
    else:
        cap = rules.apheresis_per_year
        counted = sorted(g.day for g in inside if g.collection_type != "whole_blood")
    if len(counted) >= cap:
        return counted[len(counted) - cap] + YEAR
    if collection_type == "apheresis_plasma":
        plasma = sorted((g.day, g.volume) for g in inside
                        if g.collection_type == "apheresis_plasma")
        total = sum(v for _, v in plasma) + volume_ml
        for given_day, volume in plasma:
            if total <= rules.plasma_ml_per_year:
                break
            total -= volume
            day = given_day + YEAR
    return day
