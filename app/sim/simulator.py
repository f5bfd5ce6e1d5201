"""The simulator: a seeded, day-by-day stream of commands for a national network.

``Simulator.batches()`` yields the commands of one phase of one simulated day at a time (the
network's registration first). The caller sends them through the writer and hands the
outcomes back with ``settle`` before asking for the next phase, so each phase acts on what
the service actually accepted. The same seed, configuration and ``end`` give the same commands.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from app.errors import DomainError
from app.sim import (
    distribution,
    donors,
    hospital,
    lookback,
    modification,
    processing,
    quality,
    staff,
    testing,
    transfusion,
)
from app.sim.model import Step
from app.sim.state import ADMIN, OPERATOR, SimConfig, SimState
from app.store.batch import AppendResult

Outcome = AppendResult | DomainError | None
"""What became of a step: accepted (where it landed, with its derived events), refused,
or None when no service was asked (the commands alone)."""

Phase = Callable[[SimState], None]

PHASES: tuple[tuple[str, Phase], ...] = (
    ("collect", donors.collect),
    ("assess", quality.assess),
    ("information", lookback.receive_information),
    ("restock", distribution.restock_hospitals),
    ("receive", lambda s: distribution.receive_all(s, 10.5)),
    ("transfer", distribution.transfer_between_hospitals),
    ("bring in", processing.bring_in),
    ("receive", lambda s: distribution.receive_all(s, 13)),
    ("thaw", modification.thaw),
    ("split", processing.split),
    ("reserve", hospital.reserve),
    ("urgent", distribution.urgent_orders),
    ("receive", lambda s: distribution.receive_all(s, 15.5)),
    ("reserve", hospital.reserve_ordered),
    ("issue", hospital.issue),
    ("screen", testing.screen),
    ("transfuse", transfusion.transfuse),
    ("release", processing.release_or_discard),
    ("pool", processing.pool_platelets),
    ("late completion", transfusion.complete_late),
    ("lookback", lookback.follow_lookbacks),
    ("incidents", quality.incidents),
    ("fractionation", distribution.ship_for_fractionation),
    ("expiry", quality.expire),
    ("staff", staff.administer),
)


@dataclass(slots=True)
class SimReport:
    """What a run did: events recorded by type (derived ones included), refusals (expected
    or not) by rule, and how often each flow of the network was walked."""

    accepted: Counter[str] = field(default_factory=Counter)
    expected_refusals: Counter[str] = field(default_factory=Counter)
    unexpected_refusals: Counter[str] = field(default_factory=Counter)
    unexpectedly_accepted: Counter[str] = field(default_factory=Counter)
    drift: Counter[str] = field(default_factory=Counter)
    """Accepted steps whose derived events the sim did not foresee (by type)."""
    examples: dict[str, str] = field(default_factory=dict)
    """One message per unexpected rule (or drift), to tell what went wrong."""
    paths: Counter[str] = field(default_factory=Counter)
    late_entries: int = 0
    """Steps sent with a late-entry reason (dated before the server's late-entry bound)."""
    donations: int = 0
    donors: int = 0
    units: int = 0
    unmet_requests: int = 0
    reactions: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    """Adverse reactions the rules accepted, by (reaction type, severity, imputability):
    the sim's own haemovigilance tally."""

    @property
    def units_transfused(self) -> int:
        return self.accepted["UnitTransfused"]

    @property
    def events(self) -> int:
        return sum(self.accepted.values())

    @property
    def refused(self) -> int:
        return sum(self.expected_refusals.values()) + sum(self.unexpected_refusals.values())


class Simulator:
    """Generates the commands; keeps its own picture of the network in step with outcomes."""

    def __init__(self, config: SimConfig,
                 pseudonym_of: Callable[[str], str] | None = None) -> None:
        self.state = SimState(config, pseudonym_of)
        self.report = SimReport()

    @property
    def days(self) -> int:
        return self.state.config.days

    def registration(self) -> list[Step]:
        """Every site of the network, registered by the national admin the day before, and
        the governorate's lab agreed for each collection site."""
        s = self.state
        s.clock.now = s.start - timedelta(days=1)
        s.emit("AccountCreated", {"user_id": ADMIN.user_id, "name": "National administrator",
                                  "role": "admin"}, OPERATOR)
        for site in s.network.sites:
            s.emit("SiteRegistered", {"site_id": site.site_id,
                                      "name": f"{site.name} / {site.name_ar}",
                                      "kind": site.kind, "region": site.region}, ADMIN)
        for site in s.collecting:
            s.emit("LabServiceAgreed", {"collection_site_id": site.site_id,
                                        "lab_site_id": s.network.lab_for(site.governorate)
                                        .site_id}, ADMIN)
        return s.take()

    def batches(self, on_day: Callable[[int], None] | None = None, *,
                whole_days: bool = False) -> Iterator[list[Step]]:
        """The registration, then each phase of each day; ``on_day`` after every day.

        With ``whole_days`` a day's phases come as one batch (far fewer round trips); a
        refusal then shows up in that day's later phases as refusals of the same units,
        instead of being avoided.
        """
        yield self.registration()
        s = self.state
        for day in range(s.config.days):
            s.begin_day(day)
            for _, phase in PHASES:
                phase(s)
                if not whole_days and s.out:
                    yield s.take()
            if s.out:
                yield s.take()
            if on_day is not None:
                on_day(day + 1)
        donors.erasures(s)
        if s.out:
            yield s.take()
        self._finish_report()

    def settle(self, steps: Sequence[Step], outcomes: Sequence[Outcome]) -> None:
        """Take the outcome of each step: a refusal must be the one the step was sent to
        provoke, and an accepted step must have derived the events the sim foresaw. An
        unexpected refusal makes the sim give up the units that step concerned."""
        report = self.report
        for step, outcome in zip(steps, outcomes, strict=True):
            if not isinstance(outcome, DomainError):
                if step.expect is not None:
                    report.unexpectedly_accepted[step.expect] += 1
                report.accepted.update([step.type, *step.derived])
                if step.type == "AdverseReactionReported":
                    report.reactions[(str(step.data["reaction_type"]),
                                      str(step.data["severity"]),
                                      str(step.data["imputability"]))] += 1
                if step.path is not None:
                    report.paths[step.path] += 1
                if outcome is not None and len(outcome.derived) != len(step.derived):
                    report.drift[step.type] += 1
                    report.examples.setdefault(
                        f"{step.type}: derived events",
                        f"foresaw {step.derived}, the rules derived {len(outcome.derived)}")
            elif step.expect == outcome.rule:
                report.expected_refusals[outcome.rule] += 1
            else:
                rule = f"{step.type}: {outcome.rule}"
                report.unexpected_refusals[rule] += 1
                report.examples.setdefault(rule, outcome.detail)
                for unit_id in step.units:
                    unit = self.state.units.get(unit_id)
                    if unit is not None and unit.live:
                        self.state.finish(unit, "abandoned")

    def _finish_report(self) -> None:
        s = self.state
        self.report.donations = len(s.donations)
        self.report.donors = len(s.donors)
        self.report.units = len(s.units)
        self.report.unmet_requests = sum(s.unmet.values())
