"""The write half of the relation model: who may record which step, and why not.

``refusals(model, key, type, data)`` gives the reasons a key may not record a command in the
network the model holds; empty when it may. Each reason is one relation the key lacks:
``role`` (the published role matrix), ``site-scope`` (an acting site that is not its own),
``custody`` (it does not hold the unit), ``destination`` (the unit is not on its way to it),
``lab`` (it does not test the donation), ``site-kind`` (its site cannot do this at all),
``lookback-scope`` and ``scope`` (it is not the blood establishment responsible for the
donation), ``hold`` (the hold is the blood establishment's to lift), ``lookback-site`` (it
neither held nor was sent the unit when the lookback started).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.support.relations import (
    COLLECTION_KINDS,
    ESTABLISHMENT_CAUSES,
    ESTABLISHMENT_ROLES,
    LAB_KINDS,
    Key,
    Relations,
)

_HOLDERS = ("collector", "processing", "inventory", "hospital")
_CARE = ("processing", "inventory", "hospital")
_DONOR_CARE = ("collector", "processing")
RECORDED_BY: Mapping[str, tuple[str, ...]] = {
    "SiteRegistered": (), "LabServiceAgreed": (), "SamplesDispatched": _DONOR_CARE,
    "DonorRegistered": _DONOR_CARE, "DonorScreened": _DONOR_CARE, "DonorDeferred": _DONOR_CARE,
    "DonorReinstated": ("processing",), "PostDonationInformationReceived": _DONOR_CARE,
    "DonationCollected": ("collector",), "UnitSplit": ("processing",),
    "UnitsPooled": ("processing",), "TestResultRecorded": ("lab",),
    "UnitReleased": ("processing",), "UnitQuarantined": _HOLDERS, "QuarantineLifted": _CARE,
    "UnitStored": _HOLDERS, "TemperatureExcursionRecorded": _HOLDERS, "UnitShipped": _HOLDERS,
    "UnitReceived": _CARE, "UnitReserved": ("hospital",),
    "ReservationReleased": ("inventory", "hospital"), "UnitIssued": ("hospital",),
    "UnitReturned": ("hospital",), "UnitTransfused": ("hospital",),
    "AdverseReactionReported": ("hospital",), "UnitDiscarded": _HOLDERS,
    "UnitModified": ("processing", "hospital"),
    "UnitShippedForFractionation": ("processing", "inventory"),
    "LookbackStarted": ESTABLISHMENT_ROLES, "LookbackAcknowledged": _CARE,
    "LookbackRecipientNotified": ("hospital",), "LookbackClosed": ESTABLISHMENT_ROLES,
    "PatientGroupDetermined": ("hospital",), "PatientAntibodyRecorded": ("hospital",),
    "PatientRequirementRecorded": ("hospital",), "TransfusionStarted": ("hospital",),
    "AccountCreated": (), "AccountChanged": (), "AccountDisabled": (), "AccountLocked": (),
    "AccountPasswordReset": (), "AccountTotpEnrolled": (),
    "DonorIdentityViewed": _DONOR_CARE, "DonorIdentityShredded": (),
}
"""The published role matrix (README, ``/docs``): who records each type; admin records all."""




def refusals(r: Relations, key: Key, type_: str, data: Mapping[str, Any]) -> set[str]:
    """Why ``key`` may not record this command; empty when it may."""
    if key.role == "auditor" or (key.role != "admin" and key.role not in RECORDED_BY[type_]):
        return {"role"}
    if key.role == "admin":
        return set()
    return _JUDGES.get(type_, _unit_step)(r, key, data)


def _own_site_fields(key: Key, d: Mapping[str, Any], fields: tuple[str, ...]) -> set[str]:
    return {"site-scope"} if any(d.get(f) not in (None, key.site) for f in fields) else set()


def _unit_step(r: Relations, key: Key, d: Mapping[str, Any]) -> set[str]:
    """Every unit step: taken by the site that holds the unit, for its own site."""
    reasons = _own_site_fields(key, d, ("site_id", "from_site_id"))
    unit = r.units[d["unit_id"]]
    if unit.custodian != key.site or unit.in_transit_to is not None:
        reasons.add("custody")
    return reasons


def _received_by(r: Relations, key: Key, d: Mapping[str, Any]) -> set[str]:
    reasons = _own_site_fields(key, d, ("site_id",))
    if r.units[d["unit_id"]].in_transit_to != key.site:
        reasons.add("destination")
    return reasons


def _lift(r: Relations, key: Key, d: Mapping[str, Any]) -> set[str]:
    reasons = _unit_step(r, key, d)
    holds = r.units[d["unit_id"]].holds
    cause = holds.get(d.get("hold_id") or next(iter(holds), ""), "manual")
    if cause in ESTABLISHMENT_CAUSES and not (
            key.role == "processing" and r.kind(key.site) == "blood_bank"):
        reasons.add("hold")
    return reasons


def _pooled(r: Relations, key: Key, d: Mapping[str, Any]) -> set[str]:
    if any(r.units[u].custodian != key.site for u in d["parent_unit_ids"]):
        return {"custody"}
    return set()


def _collection(r: Relations, key: Key, d: Mapping[str, Any]) -> set[str]:
    reasons = _own_site_fields(key, d, ("site_id",))
    if r.kind(d["site_id"]) not in COLLECTION_KINDS:
        reasons.add("site-kind")
    return reasons


def _result(r: Relations, key: Key, d: Mapping[str, Any]) -> set[str]:
    reasons = _own_site_fields(key, d, ("lab_site_id",))
    if r.kind(d["lab_site_id"]) not in LAB_KINDS:
        reasons.add("site-kind")
    elif key.site not in r.testing_labs(d["din"]):
        reasons.add("lab")
    return reasons


def _dispatch(r: Relations, key: Key, d: Mapping[str, Any]) -> set[str]:
    return {"custody"} if any(r.collected_at.get(din) != key.site for din in d["dins"]) else set()


def _donor_holds(r: Relations, key: Key, d: Mapping[str, Any]) -> set[str]:
    """Information a donor gives holds their donations' units: the collecting blood
    establishment's (or its lab's) to record, as a lookback is."""
    dins = r.donor_dins[d["donor_id"]]
    return set() if any(key.site in r.serving(din) for din in dins) else {"donor-scope"}


def _lookback_start(r: Relations, key: Key, d: Mapping[str, Any]) -> set[str]:
    dins = r.donor_dins[d["donor_id"]] if d.get("donor_id") else [d["din"]]
    return set() if r.may_run_lookback(key, dins) else {"lookback-scope"}


def _lookback_close(r: Relations, key: Key, d: Mapping[str, Any]) -> set[str]:
    lookback = r.lookbacks[d["lookback_id"]]
    if key.site == lookback.starter or r.may_run_lookback(key, lookback.dins):
        return set()
    return {"lookback-scope"}


def _acknowledge(r: Relations, key: Key, d: Mapping[str, Any]) -> set[str]:
    reasons = _own_site_fields(key, d, ("site_id",))
    if key.site not in r.lookbacks[d["lookback_id"]].holders.get(d["unit_id"], ()):
        reasons.add("lookback-site")
    return reasons


def _notify(r: Relations, key: Key, d: Mapping[str, Any]) -> set[str]:
    holders = r.lookbacks[d["lookback_id"]].holders.get(d["unit_id"], ())
    return set() if key.site in holders else {"custody"}


def _reaction(r: Relations, key: Key, d: Mapping[str, Any]) -> set[str]:
    return set() if r.units[d["unit_id"]].custodian == key.site else {"custody"}


def _identity_read(r: Relations, key: Key, d: Mapping[str, Any]) -> set[str]:
    """An identity is read at a blood bank (issue 19), for the key's own site."""
    reasons = _own_site_fields(key, d, ("site_id",))
    if r.kind(d.get("site_id") or key.site) != "blood_bank":
        reasons.add("site-kind")
    return reasons


def _free(r: Relations, key: Key, d: Mapping[str, Any]) -> set[str]:
    """Donors are a national register: any key of a donor-care role. So is the patient's
    transfusion record (RULES §7): any hospital treating the patient records a fact about
    them, and the fact protects the patient everywhere; no site of its own is named."""
    return set()


_JUDGES = {
    "SamplesDispatched": _dispatch, "DonorRegistered": _free, "DonorDeferred": _free,
    "DonorReinstated": _free, "PostDonationInformationReceived": _donor_holds,
    "DonationCollected": _collection, "DonorScreened": _collection, "UnitsPooled": _pooled,
    "TestResultRecorded": _result,
    "QuarantineLifted": _lift, "UnitReceived": _received_by,
    "AdverseReactionReported": _reaction, "LookbackStarted": _lookback_start,
    "LookbackAcknowledged": _acknowledge, "LookbackRecipientNotified": _notify,
    "LookbackClosed": _lookback_close, "PatientGroupDetermined": _free,
    "PatientAntibodyRecorded": _free, "PatientRequirementRecorded": _free,
    "DonorIdentityViewed": _identity_read,
}
