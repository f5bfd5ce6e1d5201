"""Quality events: temperature excursions, inspections and damage, the next day's assessment
(quarantine lifted or unit discarded), and the nightly discard of expired units."""

from __future__ import annotations

import heapq

from app.sim import distribution
from app.sim.model import Unit
from app.sim.state import SimState

LIFT_SHARE = 0.5


def incidents(s: SimState) -> None:
    """Excursions and inspections found today quarantine the unit; damaged units go."""
    s.clock.phase(21.5)
    due, s.excursion_due = s.excursion_due, []
    for unit, what in due:
        if not (unit.live and unit.status == "stock"):
            continue
        actor = distribution.custodian(s, unit.site)
        if what == "damaged":
            s.emit("UnitDiscarded", {"unit_id": unit.unit_id, "reason": "damaged"}, actor,
                   units=(unit.unit_id,))
            s.finish(unit, "discarded")
            continue
        if what == "temperature":
            low, high = unit.product.storage_dc
            s.emit("TemperatureExcursionRecorded", {
                "unit_id": unit.unit_id, "min_temp_dc": low + 5,
                "max_temp_dc": high + s.rng.randint(5, 60), "minutes": s.rng.randint(15, 240),
            }, actor, units=(unit.unit_id,))
        else:
            s.emit("UnitQuarantined", {"unit_id": unit.unit_id,
                                       "reason": "visual inspection: suspected haemolysis"},
                   actor, units=(unit.unit_id,))
        if not unit.quarantined:
            unit.quarantined = True
            s.watch.append((unit, what))


def assess(s: SimState) -> None:
    """Yesterday's quarantines are assessed: half are lifted, the rest discarded."""
    s.clock.phase(8)
    watched, s.watch = s.watch, []
    for unit, what in watched:
        if not (unit.live and unit.status == "stock" and unit.quarantined):
            continue
        actor = distribution.custodian(s, unit.site)
        at_bank = s.sites[unit.site].kind == "blood_bank"
        if at_bank and s.rng.random() < LIFT_SHARE:
            # Only the bank's processing staff may lift a quarantine; hospitals discard.
            actor = s.actor(unit.site, "processing")
            reason = ("excursion assessed: within validated tolerance" if what == "temperature"
                      else "inspection: no haemolysis found")
            s.emit("QuarantineLifted", {"unit_id": unit.unit_id, "reason": reason}, actor,
                   units=(unit.unit_id,))
            unit.quarantined = False
        else:
            reason = "temperature" if what == "temperature" else "damaged"
            s.emit("UnitDiscarded", {"unit_id": unit.unit_id, "reason": reason}, actor,
                   units=(unit.unit_id,))
            s.finish(unit, "discarded")


def expire(s: SimState) -> None:
    """Units past their expiry are discarded by their custodian, late in the evening."""
    s.clock.phase(23)
    while s.expiry and s.expiry[0][0] <= s.clock.now:
        _, unit_id = heapq.heappop(s.expiry)
        unit: Unit = s.units[unit_id]
        if not unit.live or unit.status != "stock":
            continue
        s.emit("UnitDiscarded", {"unit_id": unit_id, "reason": "expired"},
               distribution.custodian(s, unit.site), units=(unit_id,))
        s.finish(unit, "discarded")
