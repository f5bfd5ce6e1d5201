"""The sim's mirror of the holds the rules place and lift in the same decision as their
cause (RULES §2), and the discards that follow a unit the rules will never release again.

The rules give a derived hold the id of its event: ``uuid5`` of the command's event id and
the event's index in the decision. The sim predicts each derived event in the order the
rules emit it (``Step.derive``), so it knows every hold id without reading the log back;
``Simulator.settle`` checks the count against the positions the writer returns.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.sim.model import Hold, Step, Unit
from app.sim.state import SimState


def place(step: Step, units: Iterable[Unit], cause: str, marker: str | None = None,
          din: str | None = None) -> list[Unit]:
    """The holds ``step`` derives: one on every live unit without an open hold of this
    cause (and marker and donation) yet (``app.events.slices.holds.place_holds``)."""
    held = []
    for unit in units:
        if unit.live and all(h.key != (cause, marker, din) for h in unit.holds):
            unit.holds.append(Hold(step.derive("UnitQuarantined"), cause, marker, din))
            held.append(unit)
    return held


def lift(step: Step, units: Iterable[Unit], cause: str, marker: str | None = None,
         din: str | None = None) -> None:
    """The lifts ``step`` derives: every open hold of this cause (and marker and donation)
    on live units (``app.events.slices.holds.lift_holds``)."""
    for unit in units:
        if not unit.live:
            continue
        for hold in [h for h in unit.holds if h.key == (cause, marker, din)]:
            step.derive("QuarantineLifted")
            unit.holds.remove(hold)


def lift_by_hand(s: SimState, unit: Unit, hold: Hold, role: str, reason: str, *,
                 expect: str | None = None, path: str | None = None) -> Step:
    """A person at the unit's custodian lifts one hold, naming it. With ``expect`` it is a
    mistake the rules refuse: the sim's picture does not change."""
    step = s.emit("QuarantineLifted", {"unit_id": unit.unit_id, "reason": reason,
                                       "hold_id": hold.hold_id},
                  s.actor(unit.site, role), expect=expect,
                  units=() if expect else (unit.unit_id,), path=path)
    if expect is None:
        unit.holds.remove(hold)
    return step


def doom(s: SimState, units: Iterable[Unit], reason: str) -> None:
    """Only a discard (``reactive_test``, ``recalled``) may follow for these live units."""
    for unit in units:
        if unit.live:
            s.doomed.setdefault(unit.unit_id, reason)


def discard_doomed(s: SimState) -> None:
    """Each custodian discards the doomed units it holds; units on the road wait for their
    receipt, and a reserved or issued unit goes too (it can no longer be issued or
    transfused)."""
    for unit_id, reason in list(s.doomed.items()):
        unit = s.units[unit_id]
        if not unit.live:
            del s.doomed[unit_id]
            continue
        if unit.status == "transit":
            continue
        s.emit("UnitDiscarded", {"unit_id": unit_id, "reason": reason},
               s.custodian(unit.site), units=(unit_id,))
        s.finish(unit, "discarded")
