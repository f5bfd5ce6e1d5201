"""At the hospital: patients needing blood, crossmatch and reservation, issue (and now and
then emergency release), transfusion, adverse reactions and returns."""

from __future__ import annotations

from app.sim import distribution
from app.sim.model import (
    PLASMA,
    PLATELETS,
    RED_CELLS,
    WHOLE_BLOOD,
    Unit,
)
from app.sim.state import SimState

WARDS = ("surgery", "icu", "maternity", "oncology", "haematology", "emergency")
REACTIONS = (
    ("fnhtr", "non_severe", "likely"),
    ("allergic", "non_severe", "possible"),
    ("taco", "severe", "likely"),
    ("other_alloimmune_haemolysis", "severe", "possible"),
)
"""Coded reaction types (RULES §8) that put no hold on co-components."""


def reserve(s: SimState) -> None:
    """Today's requests: each patient gets a compatible unit reserved, first-expiring first,
    or (rarely, in a bleeding emergency) group O red cells issued without crossmatch."""
    s.clock.phase(14.5)
    for hospitals in s.hospitals.values():
        for hospital in hospitals:
            for category in (RED_CELLS, WHOLE_BLOOD, PLATELETS, PLASMA):
                wanted = distribution.demand(s, hospital.site_id, category)
                for _ in range(s.poisson(wanted)):
                    _request(s, hospital.site_id, category)


def _request(s: SimState, hospital: str, category: str,
             patient: tuple[str, tuple[str, str]] | None = None) -> None:
    """One patient's request: a unit of the patient's own group from the hospital's stock,
    else an urgent order (``patient`` is given again once it is settled)."""
    first = patient is None
    patient_id, group = patient or (s.pseudonym("PAT"), s.random_group())
    stock = s.available(hospital, category)
    if first and category == RED_CELLS and s.rng.random() < s.rates.emergency_share:
        o_neg = [u for u in stock if u.group == ("O", "NEG")]
        if o_neg:
            _emergency(s, o_neg[0], patient_id)
            return
    unit = distribution.choose(stock, category, group, identical=first)
    if unit is None:
        if first:
            s.orders.append((hospital, category, patient_id, group))
        else:
            s.unmet[category] += 1
        return
    crossmatch = "electronic"
    if category in (RED_CELLS, WHOLE_BLOOD) and s.rng.random() < 0.7:
        crossmatch = "compatible"
    s.emit("UnitReserved", {"unit_id": unit.unit_id, "patient_id": patient_id,
                            "patient_abo": group[0], "patient_rhd": group[1],
                            "crossmatch": crossmatch},
           s.actor(hospital, "hospital"), units=(unit.unit_id,))
    unit.status, unit.patient, unit.patient_group = "reserved", patient_id, group
    s.pending["reserved"].append(unit)


def reserve_ordered(s: SimState) -> None:
    """Patients whose units came in on an urgent order get them reserved."""
    s.clock.phase(15.75)
    awaiting, s.awaiting = s.awaiting, []
    for hospital_id, category, patient_id, group in awaiting:
        _request(s, hospital_id, category, (patient_id, group))


def _emergency(s: SimState, unit: Unit, patient: str) -> None:
    s.emit("UnitIssued", {"unit_id": unit.unit_id, "patient_id": patient, "ward": "emergency",
                          "emergency": True,
                          "justification": "massive haemorrhage, no time to crossmatch",
                          "physician_id": s.pseudonym("PHY")},
           s.actor(unit.site, "hospital"), units=(unit.unit_id,))
    unit.status, unit.patient = "issued", patient
    s.pending["issued"].append(unit)


def issue(s: SimState) -> None:
    """Reserved units go to the ward, unless the procedure was cancelled."""
    s.clock.phase(16)
    reserved, s.pending["reserved"] = s.pending["reserved"], []
    for unit in reserved:
        if unit.status != "reserved":
            continue
        actor = s.actor(unit.site, "hospital")
        if unit.holds or s.rng.random() < s.rates.reservation_cancel_share:
            reason = (f"unit on hold ({unit.holds[0].cause})" if unit.holds
                      else "procedure cancelled")
            s.emit("ReservationReleased", {"unit_id": unit.unit_id, "reason": reason},
                   actor, units=(unit.unit_id,))
            unit.status, unit.patient = "stock", None
            continue
        s.emit("UnitIssued", {"unit_id": unit.unit_id, "patient_id": unit.patient,
                              "ward": s.rng.choice(WARDS)}, actor, units=(unit.unit_id,))
        unit.status = "issued"
        if s.rng.random() < s.rates.return_share:
            # Not needed after all, and back within the return window: into stock again.
            s.emit("UnitReturned", {"unit_id": unit.unit_id, "reason": "not transfused"},
                   actor, units=(unit.unit_id,))
            unit.status, unit.patient = "stock", None
            continue
        s.pending["issued"].append(unit)


def transfuse(s: SimState) -> None:
    """Issued units are transfused (a few with an adverse reaction); a few came back from
    the ward too late to go back into stock and are discarded. A unit put on hold since its
    issue waits at the ward: its hold is resolved, or it is discarded."""
    s.clock.phase(18)
    issued, s.pending["issued"] = s.pending["issued"], []
    for unit in issued:
        if unit.status != "issued":
            continue
        actor = s.actor(unit.site, "hospital")
        if unit.holds:
            s.pending["issued"].append(unit)
            continue
        if s.rng.random() < s.rates.returned_late_share:
            s.emit("UnitDiscarded", {"unit_id": unit.unit_id, "reason": "returned_late"},
                   actor, units=(unit.unit_id,))
            s.finish(unit, "discarded")
            continue
        s.emit("UnitTransfused", {"unit_id": unit.unit_id, "patient_id": unit.patient},
               actor, units=(unit.unit_id,))
        s.finish(unit, "transfused")
        if s.rng.random() < s.rates.adverse_reaction_rate:
            kind, severity, imputability = s.rng.choice(REACTIONS)
            s.emit("AdverseReactionReported", {
                "unit_id": unit.unit_id, "patient_id": unit.patient, "reaction_type": kind,
                "severity": severity, "imputability": imputability,
            }, actor)
