"""What a donation's test results say, marker by marker (RULES §3).

Every result is kept (``DonationState.results``, in log order); the status of a marker is
read from the whole history, so a later non-reactive screen never hides an earlier reactive
or indeterminate one, and a discordant group stays visible until a confirmatory test
settles it.

Infectious markers:

- ``untested`` — no screen yet;
- ``negative`` — screened non-reactive, nothing reactive ever;
- ``initially_reactive`` — a screen (or NAT) reactive or indeterminate, not yet resolved;
- ``resolved`` — the catalogue's number of repeats non-reactive after the last initial
  reactive: counts as negative;
- ``repeatedly_reactive`` — a repeat reactive or indeterminate (or any confirmatory test):
  the donation's units are never released again;
- ``confirmed_positive`` / ``confirmed_negative`` — the confirmatory outcome, for the donor
  (the units stay unreleasable either way).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from app.events.state import DonationState, Result

MarkerStatus = Literal[
    "untested", "negative", "initially_reactive", "resolved", "repeatedly_reactive",
    "confirmed_positive", "confirmed_negative",
]
SCREENS: Final = ("screen", "nat")
REACTIVE: Final = ("reactive", "indeterminate")
CLEAR: Final[frozenset[MarkerStatus]] = frozenset({"negative", "resolved"})
"""Statuses a marker may have on a unit that is released."""
BLOCKING: Final[frozenset[MarkerStatus]] = frozenset({
    "initially_reactive", "repeatedly_reactive", "confirmed_positive", "confirmed_negative"})
"""Statuses that keep every unit of the donation from release, reservation, issue and
transfusion."""
REPEATEDLY: Final[frozenset[MarkerStatus]] = frozenset({
    "repeatedly_reactive", "confirmed_positive", "confirmed_negative"})


def of_marker(results: Iterable[Result], marker: str) -> list[Result]:
    return [r for r in results if r.marker == marker]


def marker_status(results: Sequence[Result], marker: str, repeats: int = 2) -> MarkerStatus:
    """The status of an infectious ``marker`` from every result recorded for it."""
    rs = of_marker(results, marker)
    confirms = [r for r in rs if r.kind == "confirmatory"]
    if any(c.result == "positive" for c in confirms):
        return "confirmed_positive"
    initial = [r.position for r in rs if r.kind in SCREENS and r.result in REACTIVE]
    repeated = any(r.kind == "repeat" and r.result in REACTIVE for r in rs)
    if confirms and (initial or repeated or any(c.result in REACTIVE for c in confirms)):
        # A confirmatory test settles a reactive marker for the donor; the units stay
        # unreleasable either way. A negative one on a marker never reactive blocks nothing.
        return "confirmed_negative" if confirms[-1].result == "negative" else (
            "repeatedly_reactive")
    if repeated:
        return "repeatedly_reactive"
    if initial:
        last = max(initial)
        cleared = [r for r in rs if r.kind == "repeat" and r.result == "non_reactive"
                   and r.position > last]
        return "resolved" if len(cleared) >= repeats else "initially_reactive"
    if any(r.kind in SCREENS and r.result == "non_reactive" for r in rs):
        return "negative"
    return "untested"


@dataclass(frozen=True, slots=True)
class Typing:
    """A donation's ABO or RhD: ``value`` when determined, ``discrepant`` when results (or
    the donor's known group) disagree and no confirmatory result settles it."""

    value: str | None
    discrepant: bool

    @property
    def determined(self) -> bool:
        return self.value is not None and not self.discrepant


def typing(results: Sequence[Result], marker: str, donor_value: str | None = None) -> Typing:
    """The group ``marker`` (ABO or RHD) of a donation from its results.

    The latest confirmatory result stands, and later results must agree with it; without
    one, every result and the donor's known group must agree.
    """
    rs = of_marker(results, marker)
    if not rs:
        return Typing(None, False)
    confirms = [r for r in rs if r.kind == "confirmatory"]
    if confirms:
        standing = confirms[-1]
        later = {r.result for r in rs if r.position > standing.position}
        return Typing(standing.result, bool(later - {standing.result}))
    values = {r.result for r in rs}
    if donor_value is not None:
        values.add(donor_value)
    if len(values) > 1:
        return Typing(None, True)
    return Typing(values.pop(), False)


def donation_typing(donation: DonationState, marker: str) -> Typing:
    return typing(donation.results, marker, donation.donor_group.get(marker))


def tested_markers(results: Iterable[Result]) -> list[str]:
    """Every marker with a result, in the order first tested."""
    return list(dict.fromkeys(r.marker for r in results))
