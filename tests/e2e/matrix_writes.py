"""The write half of the authorization matrix: for every event type of the registry, a
representative command and the state it needs (its subject), built over HTTP.

Each key sends the command as it would for its own site (the acting site fields name the
key's site; an admin's name the subject's). What the key may do is the relation model's
(``tests/support/step_rules.py``); the test sends the refused ones against one subject, and
gives each key that may record the step a subject of its own when the step uses it up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tests.e2e.matrix_network import ADMIN, BEDSIDE, PLASMA, SITES, Network
from tests.support.relations import Key

Subject = dict[str, Any]


@dataclass(frozen=True)
class Case:
    """``subject(net)`` builds the state; ``command(net, subject, key)`` is the data."""

    type: str
    subject: Callable[[Network], Awaitable[Subject]]
    command: Callable[[Network, Subject, Key], dict[str, Any]]
    consumes: bool = True
    """An accepted command uses the subject up (a second key needs one of its own)."""
    own_subject: Callable[[Key], bool] = lambda key: False
    """The keys that get a subject of their own, refused or not: where a hole would
    otherwise change the answer of the keys after it."""
    variant: str = ""

    @property
    def name(self) -> str:
        return f"{self.type}/{self.variant}" if self.variant else self.type


def own(key: Key, default: str) -> str:
    """The acting site a key names: its own, or for an admin the subject's."""
    return key.site or default


def tag(key: Key) -> str:
    return key.name.replace("@", ".")


# --- subjects ------------------------------------------------------------------------------


async def nothing(net: Network) -> Subject:
    return {}


async def new_lab(net: Network) -> Subject:
    site = net.next("LAB-NEW")
    await net.step(ADMIN, "SiteRegistered", {"site_id": site, "name": "A new lab",
                                             "kind": "lab", "region": "Aleppo"})
    return {"lab": site}


async def donor(net: Network) -> Subject:
    return {"donor": await net.donor()}


async def screened_donor(net: Network) -> Subject:
    """A donor screened at every collection site, so any of them may collect."""
    found = await net.donor()
    for site, kind in SITES.items():
        if kind in ("blood_bank", "mobile_unit"):
            await net.screen(found, site)
    return {"donor": found}


async def deferred_donor(net: Network) -> Subject:
    found = await net.donor()
    await net.step(ADMIN, "DonorDeferred", {"donor_id": found, "reason": "low haemoglobin",
                                            "until": "2031-01-01"})
    return {"donor": found}


async def donor_at_the_bank(net: Network) -> Subject:
    unit = await net.collect("BB-DAM-01")
    return {"donor": net.model.donor_of(unit.split("-")[0]), "unit": unit}


def donation_at(site: str) -> Callable[[Network], Awaitable[Subject]]:
    async def build(net: Network) -> Subject:
        unit = await net.collect(site)
        return {"unit": unit, "din": unit.split("-")[0]}
    return build


async def dispatched_donation(net: Network) -> Subject:
    found = await donation_at("BB-ALE-01")(net)
    await net.step(Key("collector", "BB-ALE-01"), "SamplesDispatched", {
        "dins": [found["din"]], "lab_site_id": "LAB-DAM-01"})
    return found


async def tested_whole(net: Network) -> Subject:
    found = await donation_at("BB-DAM-01")(net)
    await net.test_all(found["din"])
    return found


async def two_at_the_bank(net: Network) -> Subject:
    return {"units": [await net.collect("BB-DAM-01"), await net.collect("BB-DAM-01")]}


def released_at(site: str, component: str = "E0398V00") -> Callable[[Network],
                                                                   Awaitable[Subject]]:
    async def build(net: Network) -> Subject:
        return {"unit": await net.released(site, component)}
    return build


async def held_by_hand(net: Network) -> Subject:
    unit, hold = await net.collect("BB-DAM-01"), net.next("HOLD")
    await net.step(ADMIN, "UnitQuarantined", {"unit_id": unit, "reason": "seal to inspect",
                                              "cause": "manual", "hold_id": hold})
    return {"unit": unit, "hold": hold}


async def held_by_lookback(net: Network) -> Subject:
    unit = await net.released("H-DAM-01")
    return {"unit": unit, "lookback": await net.lookback(din=unit.split("-")[0])}


async def on_the_way(net: Network) -> Subject:
    unit = await net.released("BB-DAM-01")
    return {"unit": unit, "shipment": await net.ship(unit, "H-DAM-02")}


def given(site: str, until: str) -> Callable[[Network], Awaitable[Subject]]:
    async def build(net: Network) -> Subject:
        unit, patient = await net.released(site), net.next("PAT")
        await net.given_to(unit, patient, until)
        return {"unit": unit, "patient": patient}
    return build


async def lookback_unit_at_the_hospital(net: Network) -> Subject:
    found = await given("H-DAM-01", "UnitTransfused")(net)
    return found | {"lookback": await net.lookback(din=found["unit"].split("-")[0])}


async def lookback_of_the_bank(net: Network) -> Subject:
    """Another lookback on one donation collected at the bank, for each key."""
    if "closing" not in net.cache:
        net.cache["closing"] = (await net.collect("BB-DAM-01")).split("-")[0]
    return {"lookback": await net.lookback(din=net.cache["closing"])}


async def account(net: Network) -> Subject:
    """A person's account at the Damascus bank (created by the admin's key)."""
    user = net.next("user").lower()
    await net.step(ADMIN, "AccountCreated", {"user_id": user, "name": "A person",
                                             "role": "processing", "site_id": "BB-DAM-01"})
    return {"user": user}


# --- the cases -----------------------------------------------------------------------------

_COMPONENTS = [{"product_code": "E0398V00", "category": "red_cells", "volume_ml": 250},
               {"product_code": PLASMA, "category": "plasma", "volume_ml": 180}]
CASES = [
    Case("SiteRegistered", nothing, lambda n, s, k: {
        "site_id": f"NEW-{tag(k)}", "name": "A new site", "kind": "hospital",
        "region": "Aleppo"}, consumes=False),
    Case("LabServiceAgreed", new_lab, lambda n, s, k: {
        "collection_site_id": "MU-ALE-01", "lab_site_id": s["lab"]}),
    Case("SamplesDispatched", donation_at("BB-DAM-01"), lambda n, s, k: {
        "dins": [s["din"]], "lab_site_id": "LAB-ALE-01"}, consumes=False),
    Case("DonorRegistered", nothing, lambda n, s, k: {"donor_id": f"DNR-{tag(k)}"},
         consumes=False),
    Case("DonorDeferred", donor, lambda n, s, k: {
        "donor_id": s["donor"], "reason": "low haemoglobin", "until": "2031-01-01"},
        consumes=False),
    Case("DonorReinstated", deferred_donor, lambda n, s, k: {
        "donor_id": s["donor"], "reason": "deferral reviewed"}),
    Case("PostDonationInformationReceived", donor_at_the_bank, lambda n, s, k: {
        "donor_id": s["donor"], "information": "fever after donating", "since": "2020-01-01"},
        consumes=False),
    Case("DonorIdentityViewed", donor, lambda n, s, k: {
        "donor_id": s["donor"], "purpose": "matrix", **({"site_id": k.site} if k.site else {})},
        consumes=False),
    Case("DonorIdentityShredded", donor, lambda n, s, k: {
        "donor_id": s["donor"], "reason": "erasure requested"}, consumes=False),
    Case("DonorScreened", donor, lambda n, s, k: {
        "donor_id": s["donor"], "site_id": own(k, "BB-DAM-01"), "hb_g_l": 145, "pass": True},
        consumes=False),
    Case("DonationCollected", screened_donor, lambda n, s, k: {
        "din": n.din(), "donor_id": s["donor"], "site_id": own(k, "BB-DAM-01"),
        "collection_type": "whole_blood", "product_code": "E0001V00",
        "category": "whole_blood", "volume_ml": 450}, own_subject=lambda key: True),
    Case("UnitSplit", donation_at("BB-ALE-01"), lambda n, s, k: {
        "unit_id": s["unit"], "components": _COMPONENTS}),
    Case("UnitsPooled", two_at_the_bank, lambda n, s, k: {
        "parent_unit_ids": s["units"], "din": n.din(), "product_code": "E0001V00",
        "category": "whole_blood", "volume_ml": 900}),
    Case("TestResultRecorded", donation_at("BB-DAM-01"), lambda n, s, k: {
        "din": s["din"], "marker": "HIV", "result": "non_reactive",
        "lab_site_id": own(k, "LAB-DAM-01")}, consumes=False),
    Case("TestResultRecorded", dispatched_donation, lambda n, s, k: {
        "din": s["din"], "marker": "HIV", "result": "non_reactive",
        "lab_site_id": own(k, "LAB-ALE-01")}, consumes=False, variant="samples dispatched"),
    Case("UnitReleased", tested_whole, lambda n, s, k: {"unit_id": s["unit"]}),
    Case("UnitQuarantined", released_at("H-DAM-02"), lambda n, s, k: {
        "unit_id": s["unit"], "reason": "bag leaking", "cause": "manual"}, consumes=False),
    Case("QuarantineLifted", held_by_hand, lambda n, s, k: {
        "unit_id": s["unit"], "reason": "seal intact", "hold_id": s["hold"]},
        variant="manual hold"),
    Case("QuarantineLifted", held_by_lookback, lambda n, s, k: {
        "unit_id": s["unit"], "reason": "donor cleared"}, variant="lookback hold",
        own_subject=lambda key: key.site == "H-DAM-01"),
    Case("UnitStored", donation_at("BB-DAM-01"), lambda n, s, k: {
        "unit_id": s["unit"], "site_id": own(k, "BB-DAM-01"), "location": "fridge 2"},
        consumes=False),
    Case("TemperatureExcursionRecorded", released_at("H-ALE-01"), lambda n, s, k: {
        "unit_id": s["unit"], "min_temp_dc": 20, "max_temp_dc": 60, "minutes": 10},
        consumes=False),
    Case("UnitShipped", released_at("BB-DAM-01"), lambda n, s, k: {
        "unit_id": s["unit"], "from_site_id": own(k, "BB-DAM-01"), "to_site_id": "H-DAM-02",
        "shipment_id": n.next("SHP")}),
    Case("UnitReceived", on_the_way, lambda n, s, k: {
        "unit_id": s["unit"], "site_id": own(k, "H-DAM-02"), "shipment_id": s["shipment"],
        "accepted": True}),
    Case("UnitReserved", released_at("H-ALE-01"), lambda n, s, k: {
        "unit_id": s["unit"], "patient_id": "PAT-ALE-9", "patient_abo": "O",
        "patient_rhd": "NEG", "crossmatch": "compatible"}),
    Case("ReservationReleased", given("H-ALE-01", "UnitReserved"), lambda n, s, k: {
        "unit_id": s["unit"], "reason": "surgery postponed"}),
    Case("UnitIssued", given("H-DAM-01", "UnitReserved"), lambda n, s, k: {
        "unit_id": s["unit"], "patient_id": s["patient"]}),
    Case("UnitReturned", given("H-DAM-01", "UnitIssued"), lambda n, s, k: {
        "unit_id": s["unit"], "reason": "not needed"}),
    Case("TransfusionStarted", given("H-ALE-02", "UnitIssued"), lambda n, s, k: {
        "unit_id": s["unit"], "patient_id": s["patient"], "bedside_check": BEDSIDE}),
    Case("UnitTransfused", given("H-ALE-02", "TransfusionStarted"), lambda n, s, k: {
        "unit_id": s["unit"], "patient_id": s["patient"], "volume_ml": 250}),
    Case("AdverseReactionReported", given("H-DAM-01", "UnitTransfused"), lambda n, s, k: {
        "unit_id": s["unit"], "patient_id": s["patient"], "reaction_type": "fnhtr",
        "severity": "non_severe", "imputability": "possible"}, consumes=False),
    Case("AdverseReactionReported", given("H-DAM-01", "TransfusionStarted"), lambda n, s, k: {
        "unit_id": s["unit"], "patient_id": s["patient"], "reaction_type": "allergic",
        "severity": "non_severe", "imputability": "likely"}, consumes=False,
        variant="during the transfusion"),
    Case("PatientGroupDetermined", nothing, lambda n, s, k: {
        "patient_id": "PAT-MX-GROUP", "sample_id": f"S-{tag(k)}", "abo": "A", "rhd": "POS",
        "sample_collected_at": "2026-01-01T08:00:00Z"}, consumes=False),
    Case("PatientAntibodyRecorded", nothing, lambda n, s, k: {
        "patient_id": "PAT-MX-ANTIBODY", "antibody": "anti-K"}, consumes=False),
    Case("PatientRequirementRecorded", nothing, lambda n, s, k: {
        "patient_id": "PAT-MX-NEEDS", "requirement": "irradiated"}, consumes=False),
    Case("UnitDiscarded", donation_at("MU-DAM-01"), lambda n, s, k: {
        "unit_id": s["unit"], "reason": "damaged", "note": "bag torn in the centrifuge"}),
    Case("UnitModified", released_at("BB-DAM-01"), lambda n, s, k: {
        "unit_id": s["unit"], "modification": "irradiated", "product_code": "E0400V00",
        "device_id": "IRR-1"}),
    Case("UnitShippedForFractionation", released_at("BB-ALE-01", PLASMA), lambda n, s, k: {
        "unit_id": s["unit"], "fractionator_site_id": "FR-01"}),
    Case("LookbackStarted", donation_at("BB-DAM-01"), lambda n, s, k: {
        "lookback_id": n.next("LB"), "din": s["din"], "marker": "HIV"}, consumes=False),
    Case("LookbackAcknowledged", lookback_unit_at_the_hospital, lambda n, s, k: {
        "lookback_id": s["lookback"], "site_id": own(k, "H-DAM-01"), "unit_id": s["unit"]}),
    Case("LookbackRecipientNotified", lookback_unit_at_the_hospital, lambda n, s, k: {
        "lookback_id": s["lookback"], "unit_id": s["unit"], "patient_id": s["patient"]}),
    Case("LookbackClosed", lookback_of_the_bank, lambda n, s, k: {
        "lookback_id": s["lookback"], "outcome": "recipients_not_traceable",
        "note": "no recipient found"}, own_subject=lambda key: True),
    Case("AccountCreated", nothing, lambda n, s, k: {
        "user_id": f"person.{tag(k)}", "name": "A new person", "role": "lab",
        "site_id": "LAB-ALE-01"}, consumes=False),
    Case("AccountChanged", account, lambda n, s, k: {
        "user_id": s["user"], "name": "Renamed", "role": "inventory",
        "site_id": "BB-DAM-01"}, consumes=False),
    Case("AccountDisabled", account, lambda n, s, k: {"user_id": s["user"],
                                                      "reason": "left"}, consumes=False),
    Case("AccountLocked", account, lambda n, s, k: {
        "user_id": s["user"], "failures": 5, "until": "2031-01-01T00:00:00Z"},
        consumes=False),
    Case("AccountPasswordReset", account, lambda n, s, k: {"user_id": s["user"]},
         consumes=False),
    Case("AccountTotpEnrolled", account, lambda n, s, k: {"user_id": s["user"]},
         consumes=False),
]
