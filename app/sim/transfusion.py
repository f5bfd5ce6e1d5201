"""At the bedside (RULES §8): the bedside check and start within 30 min of issue, completion
within 4 h (a few run long, with the reason; a few are stopped), coded adverse reactions at
the rates of ``Rates.reactions_per_1000`` (some noticed during the transfusion, which is
then stopped), and the returns of units that were not started in time.

A bacterial, TRALI or viral reaction makes the rules hold every live unit of the source
donations and defer their donors in the same decision; the sim foresees those events
(``Step.derive``) and the units held are recalled and discarded at their custodian.
"""

from __future__ import annotations

from typing import Any

from app.sim import holds
from app.sim.distribution import ARRIVAL_DC, WARM_ARRIVAL_DC
from app.sim.model import PLASMA, Deferral, Step, Unit
from app.sim.state import SimState

HOLDING = ("bacterial_infection", "trali", "viral_infection")
"""The catalogue's holding reactions (``catalogue.patients.holding_reactions``)."""
SEVERITY: dict[str, tuple[tuple[str, float], ...]] = {
    "fnhtr": (("non_severe", 0.97), ("severe", 0.03)),
    "allergic": (("non_severe", 0.95), ("severe", 0.05)),
    "taco": (("non_severe", 0.4), ("severe", 0.45), ("life_threatening", 0.13),
             ("death", 0.02)),
    "anaphylaxis": (("severe", 0.6), ("life_threatening", 0.38), ("death", 0.02)),
    "trali": (("severe", 0.5), ("life_threatening", 0.45), ("death", 0.05)),
    "bacterial_infection": (("severe", 0.5), ("life_threatening", 0.4), ("death", 0.1)),
    "abo_haemolysis": (("severe", 0.5), ("life_threatening", 0.4), ("death", 0.1)),
}
OTHER_SEVERITY = (("non_severe", 0.7), ("severe", 0.3))
IMPUTABILITY = (("possible", 0.45), ("likely", 0.3), ("certain", 0.1), ("unlikely", 0.1),
                ("not_assessable", 0.05))
DURING = ("fnhtr", "allergic", "anaphylaxis", "trali", "bacterial_infection", "abo_haemolysis")
"""Acute reactions: noticed at the bedside, often during the transfusion."""


def after_issue(s: SimState, unit: Unit) -> None:
    """Straight back unused (within the return window), not started in time (returned in
    the evening), or the bedside check and start now."""
    r = s.rng.random()
    if r < s.rates.return_share:
        data: dict[str, Any] = {"unit_id": unit.unit_id, "reason": "not transfused"}
        if unit.category != PLASMA:
            data["temp_dc"] = s.rng.randint(*ARRIVAL_DC[unit.category])
        s.emit("UnitReturned", data, s.actor(unit.site, "hospital"), units=(unit.unit_id,))
        _back_in_stock(unit)
    elif r < s.rates.return_share + s.rates.returned_late_share:
        s.pending["issued"].append(unit)
    else:
        start(s, unit)


def _back_in_stock(unit: Unit) -> None:
    unit.status, unit.patient, unit.issued_at = "stock", None, None


def start(s: SimState, unit: Unit) -> None:
    """The wristband and the unit scanned (a second checker on most wards); now and then a
    scan is missed and the check refused before it is done again."""
    actor = s.actor(unit.site, "hospital")
    check: dict[str, Any] = {"wristband_scanned": True, "unit_scanned": True}
    if s.rng.random() < 0.8:
        check["second_checker_id"] = s.pseudonym("NRS")
    data = {"unit_id": unit.unit_id, "patient_id": unit.patient}
    if s.rng.random() < s.rates.mistake_share:
        s.emit("TransfusionStarted", {**data, "bedside_check": {**check,
                                                                "unit_scanned": False}},
               actor, expect="bedside-check-failed")
    s.emit("TransfusionStarted", {**data, "bedside_check": check}, actor,
           units=(unit.unit_id,))
    unit.started = True
    s.pending["issued"].append(unit)


def transfuse(s: SimState) -> None:
    """Started transfusions end (a few with a reaction, a few stopped, a few running long);
    units never started go back."""
    s.clock.phase(18)
    issued, s.pending["issued"] = s.pending["issued"], []
    for unit in issued:
        if unit.status != "issued":
            continue
        if not unit.started:
            _return_late(s, unit)
            continue
        reaction = _reaction(s)
        if reaction is None and s.rng.random() < s.rates.late_completion_share:
            s.late.append(unit)
            continue
        during = reaction is not None and reaction[0] in DURING and (
            s.rng.random() < s.rates.reaction_during_share)
        if reaction is not None and during:
            report(s, unit, reaction)
            complete(s, unit, stopped=f"{reaction[0].replace('_', ' ')} during the transfusion")
            continue
        stopped = s.rng.random() < s.rates.stopped_share
        complete(s, unit, stopped="the cannula tissued" if stopped else None)
        if reaction is not None:
            report(s, unit, reaction)


def complete_late(s: SimState) -> None:
    """The transfusions that ran long end in the evening, more than 4 h after issue."""
    s.clock.phase(20.5)
    late, s.late = s.late, []
    for unit in late:
        if unit.status != "issued":
            continue
        assert unit.issued_at is not None
        if (s.clock.now - unit.issued_at).total_seconds() <= 4 * 3600:
            complete(s, unit)
            continue
        if s.rng.random() < s.rates.rare_mistake_share:
            s.emit("UnitTransfused", {"unit_id": unit.unit_id, "patient_id": unit.patient},
                   s.actor(unit.site, "hospital"), expect="late-completion-reason-required")
        complete(s, unit, late="slow rate for a patient at risk of circulatory overload")


def complete(s: SimState, unit: Unit, *, stopped: str | None = None,
             late: str | None = None) -> None:
    data: dict[str, Any] = {"unit_id": unit.unit_id, "patient_id": unit.patient}
    volume = unit.volume
    if stopped is not None:
        data["stopped_reason"] = stopped
        volume = max(5, int(unit.volume * s.rng.uniform(0.1, 0.6)))
    if late is not None:
        data["late_completion_reason"] = late
    if volume > 0:
        data["volume_ml"] = volume
    s.emit("UnitTransfused", data, s.actor(unit.site, "hospital"), units=(unit.unit_id,),
           path="transfusion stopped" if stopped else
           "transfusion completed late, with its reason" if late else None)
    s.finish(unit, "transfused")


def _reaction(s: SimState) -> tuple[str, str, str] | None:
    """A coded reaction (type, severity, imputability) at the configured rates, or None."""
    r = s.rng.random() * 1000 / s.rates.reaction_factor
    for kind, per_1000 in s.rates.reactions_per_1000:
        if r < per_1000:
            severity = _weighted(s, SEVERITY.get(kind, OTHER_SEVERITY))
            return kind, severity, _weighted(s, IMPUTABILITY)
        r -= per_1000
    return None


def _weighted(s: SimState, table: tuple[tuple[str, float], ...]) -> str:
    return s.rng.choices([k for k, _ in table], weights=[w for _, w in table])[0]


def report(s: SimState, unit: Unit, reaction: tuple[str, str, str]) -> Step:
    """Report a reaction; a holding one holds every live unit of the source donations and
    defers their donors, and those units are recalled."""
    kind, severity, imputability = reaction
    step = s.emit("AdverseReactionReported", {
        "unit_id": unit.unit_id, "patient_id": unit.patient, "reaction_type": kind,
        "severity": severity, "imputability": imputability,
    }, s.actor(unit.site, "hospital"), path=f"reaction reported: {kind}")
    if kind in HOLDING:
        step.path = f"{kind}: co-components held, donor deferred"
        for din in dict.fromkeys((*unit.source_dins, unit.din)):
            donation = s.donations.get(din)
            if donation is None or donation.donor_id is None:
                continue
            held = holds.place(step, s.lineage(donation.units), "adverse_reaction", din=din)
            holds.doom(s, [u for u in held if u is not unit], "recalled")
            donor = s.donors[donation.donor_id]
            if any(x.cause == "adverse_reaction" and x.din == din and x.active_at(step.at)
                   for x in donor.deferrals.values()):
                continue
            deferral_id = step.derive("DonorDeferred")
            donor.deferrals[deferral_id] = Deferral(deferral_id, "adverse_reaction", None,
                                                    din=din, pending=True)
    return step


def _return_late(s: SimState, unit: Unit) -> None:
    """Not started within 30 min (the patient went to theatre): a start attempted too late
    is refused; the unit comes back, to stock from a validated shipper inside the transport
    range, otherwise late, and is then discarded."""
    actor = s.actor(unit.site, "hospital")
    data = {"unit_id": unit.unit_id, "patient_id": unit.patient}
    if s.rng.random() < s.rates.rare_mistake_share:
        s.emit("TransfusionStarted", {**data, "bedside_check": {
            "wristband_scanned": True, "unit_scanned": True}}, actor,
            expect="start-window-exceeded")
    if s.rng.random() < s.rates.rare_mistake_share:
        s.emit("UnitTransfused", data, actor, expect="transfusion-not-started")
    shipper = unit.category != PLASMA and s.rng.random() < s.rates.validated_shipper_share
    back: dict[str, Any] = {"unit_id": unit.unit_id, "reason": "patient not ready in time",
                            "validated_shipper": shipper}
    if unit.category != PLASMA:
        back["temp_dc"] = s.rng.randint(*(ARRIVAL_DC if shipper else WARM_ARRIVAL_DC)
                                        [unit.category])
    s.emit("UnitReturned", back, actor, units=(unit.unit_id,),
           path="returned late in a validated shipper: back to stock" if shipper else
           "returned late: discarded")
    _back_in_stock(unit)
    if not shipper:
        s.emit("UnitDiscarded", {"unit_id": unit.unit_id, "reason": "returned_late"}, actor,
               units=(unit.unit_id,))
        s.finish(unit, "discarded")
