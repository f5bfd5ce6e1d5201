"""At the hospital: patients needing blood are grouped (``app.sim.patients``), a suitable
unit is crossmatched and reserved on their newest sample, then issued; now and then a
bleeding patient of unknown group gets O NEG red cells (or a massive-haemorrhage pack)
uncrossmatched, crossmatched afterwards. The bedside and what follows are in
``app.sim.transfusion``."""

from __future__ import annotations

from typing import Any

from app.sim import distribution, patients, transfusion
from app.sim.model import PLASMA, PLATELETS, RED_CELLS, WHOLE_BLOOD, Unit
from app.sim.patients import TWO_SAMPLES, Patient
from app.sim.state import SimState

PHYSICIAN_NOTE = "massive haemorrhage, no time to crossmatch"


def reserve(s: SimState) -> None:
    """Today's requests: each patient gets a suitable unit reserved, first-expiring first,
    or (rarely, in a bleeding emergency) group O red cells issued without crossmatch."""
    s.clock.phase(14.5)
    for hospitals in s.hospitals.values():
        for hospital in hospitals:
            for category in (RED_CELLS, WHOLE_BLOOD, PLATELETS, PLASMA):
                wanted = distribution.demand(s, hospital.site_id, category)
                for _ in range(s.poisson(wanted)):
                    _request(s, hospital.site_id, category)


def _request(s: SimState, hospital: str, category: str, patient_id: str | None = None) -> None:
    """One patient's request: a unit of the patient's own group from the hospital's stock,
    else an urgent order (``patient_id`` is given again once it is settled)."""
    first = patient_id is None
    if first and category == RED_CELLS and s.rng.random() < s.rates.emergency_share:
        if _emergency(s, hospital):
            return
    if patient_id is None:
        forgets = category in TWO_SAMPLES and s.rng.random() < s.rates.mistake_share
        patient = patients.admit(s, hospital, category, one_sample=forgets)
    else:
        patient = s.patients[patient_id]
    stock = patients.suitable(s.available(hospital, category), patient)
    unit = distribution.choose(stock, category, patient.group, identical=first)
    if unit is None:
        if first:
            s.orders.append((hospital, category, patient.patient_id, patient.group))
        else:
            s.unmet[category] += 1
        return
    _reserve(s, unit, patient)


def _reserve(s: SimState, unit: Unit, patient: Patient) -> None:
    """Crossmatch and reserve on the newest sample: electronically only for a patient
    grouped twice with no antibody. The mistakes a lab makes now and then are refused first:
    a blocked patient, non-O red cells on one sample, an electronic crossmatch despite an
    antibody."""
    actor = s.actor(patient.hospital, "hospital")
    data = {"unit_id": unit.unit_id, "patient_id": patient.patient_id,
            "patient_abo": patient.group[0], "patient_rhd": patient.group[1]}
    if patient.blocked:
        if s.rng.random() < s.rates.rare_mistake_share:
            s.emit("UnitReserved", {**data, "crossmatch": "compatible"}, actor,
                   expect="patient-group-discordant")
        patients.resample(s, patient)
    if unit.category in TWO_SAMPLES and unit.abo != "O" and not patient.confirmed:
        s.emit("UnitReserved", {**data, "crossmatch": "compatible",
                                "sample_id": patient.sample}, actor, expect="two-sample-rule")
        patients.determine(s, patient, s.clock.now)
    if patient.antibody and s.rng.random() < s.rates.rare_mistake_share:
        s.emit("UnitReserved", {**data, "crossmatch": "electronic",
                                "sample_id": patient.sample}, actor,
               expect="electronic-crossmatch-not-allowed")
    crossmatch = "compatible"
    if patient.confirmed and not patient.antibody and (
            unit.category not in TWO_SAMPLES or s.rng.random() < 0.3):
        crossmatch = "electronic"
    path = "reserved for a patient who requires " + "/".join(patient.requirements) \
        if patient.requirements else None
    s.emit("UnitReserved", {**data, "crossmatch": crossmatch, "sample_id": patient.sample},
           actor, units=(unit.unit_id,), path=path)
    unit.status, unit.patient, unit.patient_group = "reserved", patient.patient_id, patient.group
    s.pending["reserved"].append(unit)


def reserve_ordered(s: SimState) -> None:
    """Patients whose units came in on an urgent order get them reserved."""
    s.clock.phase(15.75)
    awaiting, s.awaiting = s.awaiting, []
    for hospital_id, category, patient_id, _ in awaiting:
        _request(s, hospital_id, category, patient_id)


def _emergency(s: SimState, hospital: str) -> bool:
    """A bleeding patient of unknown group: O NEG red cells, or a massive-haemorrhage pack
    (O NEG red cells, AB plasma, platelets), issued uncrossmatched and started at once; the
    crossmatch follows at the issue round. False when no O NEG red cells are in stock."""
    o_neg = [u for u in s.available(hospital, RED_CELLS) if u.group == ("O", "NEG")]
    if not o_neg:
        return False
    patient = patients.arrive_bleeding(s, hospital)
    units = o_neg[:1]
    pack = s.rng.random() < s.rates.pack_share
    if pack:
        units += o_neg[1:2]
        units += [u for u in s.available(hospital, PLASMA) if u.abo == "AB"][:1]
        platelets = sorted(s.available(hospital, PLATELETS), key=lambda u: u.rhd != "NEG")
        units += platelets[:1]
    wrong = [u for u in s.available(hospital, RED_CELLS) if u.group == ("A", "POS")]
    if wrong and s.rng.random() < s.rates.rare_mistake_share:
        s.emit("UnitIssued", _emergency_data(s, wrong[0], patient), s.actor(hospital, "hospital"),
               expect="emergency-product-not-allowed")
    for unit in units:
        data = _emergency_data(s, unit, patient)
        if unit.category == PLATELETS and unit.rhd == "POS":
            data["override_reason"] = "massive haemorrhage: RhD unknown, no RhD-negative platelets"
        step = s.emit("UnitIssued", data, s.actor(hospital, "hospital"), units=(unit.unit_id,),
                      path="massive-haemorrhage pack issued uncrossmatched" if pack
                      else "O NEG red cells issued uncrossmatched")
        unit.status, unit.patient, unit.issued_at = "issued", patient.patient_id, step.at
        transfusion.start(s, unit)
    s.emergencies.append((patient, units, s.clock.now))
    return True


def _emergency_data(s: SimState, unit: Unit, patient: Patient) -> dict[str, Any]:
    return {"unit_id": unit.unit_id, "patient_id": patient.patient_id, "ward": "emergency",
            "emergency": True, "justification": PHYSICIAN_NOTE,
            "physician_id": s.pseudonym("PHY")}


def issue(s: SimState) -> None:
    """Yesterday's and today's emergencies are crossmatched; reserved units go to the ward
    (unless the procedure was cancelled) and their transfusion starts at once, unless the
    unit comes straight back unused or the patient is not ready (returned later)."""
    s.clock.phase(16)
    emergencies, s.emergencies = s.emergencies, []
    for patient, units, issued in emergencies:
        patients.follow_up(s, patient, units, issued)
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
        _issue(s, unit, s.patients[str(unit.patient)])


def _issue(s: SimState, unit: Unit, patient: Patient) -> None:
    actor = s.actor(unit.site, "hospital")
    data: dict[str, Any] = {"unit_id": unit.unit_id, "patient_id": patient.patient_id,
                            "ward": patient.ward}
    if s.rng.random() < s.rates.mistake_share:
        other = "AB" if patient.group[0] != "AB" else "A"
        s.emit("UnitIssued", {**data, "patient_abo": other}, actor,
               expect="patient-group-conflict")
    path = None
    if unit.category == PLATELETS and unit.rhd == "POS" and patient.group[1] == "NEG":
        if s.rng.random() < s.rates.rare_mistake_share:
            s.emit("UnitIssued", dict(data), actor, expect="rhd-platelets-need-prophylaxis")
        if s.rng.random() < s.rates.anti_d_share:
            data["anti_d_prophylaxis"] = True
            path = "RhD-positive platelets to an RhD-negative patient, with anti-D"
        else:
            data["override_reason"] = "no RhD-negative platelets; haematologist agreed"
            path = "RhD-positive platelets to an RhD-negative patient, overridden"
    step = s.emit("UnitIssued", data, actor, units=(unit.unit_id,), path=path)
    unit.status, unit.issued_at = "issued", step.at
    transfusion.after_issue(s, unit)
