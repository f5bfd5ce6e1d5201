"""Quality events: temperature excursions, inspections and damage, the next day's assessment
(the hold lifted or the unit discarded), and the nightly discard of expired units."""

from __future__ import annotations

import heapq

from app.sim import holds
from app.sim.model import Hold, Unit
from app.sim.state import SimState

LIFT_SHARE = 0.5
DAMAGE = ("bag punctured in storage", "leak at the tubing seal", "label torn and unreadable",
          "bag cracked in the freezer")
"""What a ``damaged`` discard says happened (RULES §6: the reason needs a note)."""
LIFTED = {"temperature": "excursion assessed: within validated tolerance",
          "receipt": "transport logger reviewed: within range for the journey",
          "inspection": "inspection: no haemolysis found"}


def incidents(s: SimState) -> None:
    """Excursions (the rules hold the unit) and inspections (held by hand) found today;
    damaged units go."""
    s.clock.phase(21.5)
    due, s.excursion_due = s.excursion_due, []
    for unit, what in due:
        if not (unit.live and unit.status == "stock"):
            continue
        actor = s.custodian(unit.site)
        if what == "damaged":
            s.emit("UnitDiscarded", {"unit_id": unit.unit_id, "reason": "damaged",
                                     "note": s.rng.choice(DAMAGE)}, actor,
                   units=(unit.unit_id,))
            s.finish(unit, "discarded")
            continue
        if what == "temperature":
            low, high = unit.product.storage_dc
            step = s.emit("TemperatureExcursionRecorded", {
                "unit_id": unit.unit_id, "min_temp_dc": low + 5,
                "max_temp_dc": high + s.rng.randint(5, 60), "minutes": s.rng.randint(15, 240),
            }, actor, units=(unit.unit_id,))
            held = holds.place(step, [unit], "temperature")
        else:
            step = s.emit("UnitQuarantined", {"unit_id": unit.unit_id, "cause": "manual",
                                              "reason": "visual inspection: suspected "
                                                        "haemolysis"},
                          actor, units=(unit.unit_id,))
            unit.holds.append(Hold(str(step.event_id), "manual"))
            held = [unit]
        if held:
            s.watch.append((unit, unit.holds[-1], what))


def assess(s: SimState) -> None:
    """Yesterday's holds are assessed: half are lifted at the blood banks (that hold alone,
    named) and half of the arrivals held at a hospital are cleared there once the transport
    logger is read; the rest are discarded. Hospitals do not assess storage excursions."""
    s.clock.phase(8)
    watched, s.watch = s.watch, []
    for unit, hold, what in watched:
        if not (unit.live and unit.status == "stock" and hold in unit.holds):
            continue
        kind = s.sites[unit.site].kind
        if (kind == "blood_bank" or what == "receipt") and s.rng.random() < LIFT_SHARE:
            holds.lift_by_hand(s, unit, hold, "processing" if kind == "blood_bank"
                               else "hospital", LIFTED[what],
                               path="arrival outside the transport range: hold lifted"
                               if what == "receipt" else None)
            continue
        data: dict[str, object] = {"unit_id": unit.unit_id, "reason": "temperature"}
        if what == "inspection":
            data |= {"reason": "damaged", "note": "inspection: haemolysis confirmed"}
        s.emit("UnitDiscarded", data, s.custodian(unit.site), units=(unit.unit_id,))
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
               s.custodian(unit.site), units=(unit_id,))
        s.finish(unit, "discarded")
