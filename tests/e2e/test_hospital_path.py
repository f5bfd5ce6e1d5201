"""RULES §7-8 over HTTP (issue 12): a full hospital path and its refused variants.

Two samples → reserve on the newer → issue → bedside check → start → a bacterial reaction
during the transfusion → stopped; the plasma of the same donation, held at another
hospital, is put on hold in the same decision and the donor is deferred. Each refused
variant answers a problem+json naming its rule and leaves the log unchanged (``refused``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.api_world import Net, din
from tests.e2e.test_full_life import refused
from tests.support.scene import BEDSIDE

UNSCANNED = {"wristband_scanned": True, "unit_scanned": False}


def ago(minutes: float) -> str:
    """A moment ``minutes`` ago, inside the late-entry bound (no reason needed)."""
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


def group(patient: str, sample: str, abo: str, rhd: str,
          collected_minutes_ago: float = 30) -> dict[str, Any]:
    return {"patient_id": patient, "sample_id": sample, "abo": abo, "rhd": rhd,
            "sample_collected_at": ago(collected_minutes_ago)}


def reservation(unit: str, patient: str, abo: str, rhd: str, sample: str | None = None,
                crossmatch: str = "compatible") -> dict[str, Any]:
    data = {"unit_id": unit, "patient_id": patient, "patient_abo": abo, "patient_rhd": rhd,
            "crossmatch": crossmatch}
    return data | ({"sample_id": sample} if sample else {})


async def red_cells(net: Net, n: int, abo: str = "O", rhd: str = "NEG",
                    plasma_to: str | None = None) -> tuple[str, str]:
    """Released red cells of ``abo``/``rhd`` at H1; with ``plasma_to`` the donation's plasma
    is released and sent to that site too. Returns (red cells, plasma)."""
    red, plasma = await net.split(await net.collect(n))
    await net.test_all(din(n), abo, rhd)
    await net.ok("processing@BB1", "UnitReleased", {"unit_id": red})
    await net.ship(red, "H1")
    if plasma_to is not None:
        await net.ok("processing@BB1", "UnitReleased", {"unit_id": plasma})
        await net.ship(plasma, plasma_to)
    return red, plasma


async def grouped(net: Net, patient: str, first: tuple[str, str],
                  second: tuple[str, str]) -> None:
    """The patient's samples ``S-<patient>-1`` (drawn 90 min ago) and ``-2`` (30 min ago)
    grouped at H1 as ``first`` and ``second``."""
    for n, (abo, rhd), minutes in ((1, first, 90), (2, second, 30)):
        await net.ok("hospital@H1", "PatientGroupDetermined",
                     group(patient, f"S-{patient}-{n}", abo, rhd, minutes))


async def events(net: Net) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await net.get("auditor", "/v1/events", after=0,
                                                 limit=1000)).json()["events"]
    return found


async def test_two_samples_reserve_issue_start_reaction_stopped_co_component_held(
        client, make_key):
    net = await Net(client, make_key).setup()
    red, plasma = await red_cells(net, 9201, "A", "POS", plasma_to="H2")
    patient = "PAT-HP-1"
    await net.ok("hospital@H1", "PatientGroupDetermined",
                 group(patient, "S-HP-1", "A", "POS", collected_minutes_ago=26 * 60))
    # two-sample-rule: A red cells on one determination only.
    await refused(net, "hospital@H1", "UnitReserved",
                  reservation(red, patient, "A", "POS", "S-HP-1"), 409, "two-sample-rule")
    await net.ok("hospital@H1", "PatientGroupDetermined", group(patient, "S-HP-2", "A", "POS"))
    await net.ok("hospital@H1", "UnitReserved",
                 reservation(red, patient, "A", "POS", "S-HP-2", "electronic"))
    # patient-group-conflict: the issue says another group than the reservation.
    await refused(net, "hospital@H1", "UnitIssued",
                  {"unit_id": red, "patient_id": patient, "patient_abo": "AB"},
                  409, "patient-group-conflict")
    await net.ok("hospital@H1", "UnitIssued", {"unit_id": red, "patient_id": patient,
                                               "ward": "surgery"})
    # Before the start: no reaction, no completion, no unscanned check.
    reaction = {"unit_id": red, "patient_id": patient, "reaction_type": "bacterial_infection",
                "severity": "life_threatening", "imputability": "likely"}
    await refused(net, "hospital@H1", "AdverseReactionReported", reaction, 409,
                  "not-transfused")
    await refused(net, "hospital@H1", "UnitTransfused", {"unit_id": red, "patient_id": patient},
                  409, "transfusion-not-started")
    await refused(net, "hospital@H1", "TransfusionStarted",
                  {"unit_id": red, "patient_id": patient, "bedside_check": UNSCANNED},
                  409, "bedside-check-failed")
    await net.ok("hospital@H1", "TransfusionStarted", {"unit_id": red, "patient_id": patient,
                                                       "bedside_check": BEDSIDE})

    # Rigors and hypotension 20 minutes in: reported during the transfusion, then stopped.
    before = len(await events(net))
    await net.ok("hospital@H1", "AdverseReactionReported", reaction)
    derived = (await events(net))[before:]
    assert [e["type"] for e in derived] == [
        "AdverseReactionReported", "UnitQuarantined", "UnitQuarantined", "DonorDeferred"]
    assert {e["data"]["unit_id"] for e in derived[1:3]} == {red, plasma}
    deferral = derived[3]["data"]
    assert (deferral["cause"], deferral["din"], deferral["pending_confirmation"]) == (
        "adverse_reaction", din(9201), True)
    await net.ok("hospital@H1", "UnitTransfused", {
        "unit_id": red, "patient_id": patient, "volume_ml": 60,
        "stopped_reason": "rigors and hypotension: suspected bacterial contamination"})

    # The co-component at the other hospital is held there, as H2's own key reads it.
    held = (await net.get("hospital@H2", f"/v1/units/{plasma}")).json()
    assert held["custodian_site_id"] == "H2" and held["quarantined"], held
    assert [h["cause"] for h in held["holds"] if h.get("open", True)] == ["adverse_reaction"]
    given = (await net.get("hospital@H1", f"/v1/units/{red}")).json()
    assert (given["status"], given.get("fate_reason")) == (
        "transfused", "rigors and hypotension: suspected bacterial contamination"), given
    # So nothing more happens to it at H2 until the blood bank has investigated.
    await refused(net, "hospital@H2", "UnitReserved",
                  reservation(plasma, "PAT-HP-2", "A", "POS"), 409, "unit-quarantined")


async def test_a_discordant_second_sample_blocks_until_two_fresh_samples(client, make_key):
    net = await Net(client, make_key).setup()
    red, _ = await red_cells(net, 9211)
    patient = "PAT-HP-WBIT"
    await grouped(net, patient, ("O", "NEG"), ("A", "POS"))
    await refused(net, "hospital@H1", "UnitReserved",
                  reservation(red, patient, "O", "NEG", f"S-{patient}-1"), 409,
                  "patient-group-discordant")
    for sample in ("S-W-3", "S-W-4"):
        await net.ok("hospital@H1", "PatientGroupDetermined",
                     group(patient, sample, "O", "NEG", 10))
    await net.ok("hospital@H1", "UnitReserved",
                 reservation(red, patient, "O", "NEG", "S-W-4", "electronic"))


async def test_antibody_and_stale_sample_refuse_the_reservation(client, make_key):
    net = await Net(client, make_key).setup()
    red, _ = await red_cells(net, 9221)
    patient = "PAT-HP-AB"
    await grouped(net, patient, ("O", "NEG"), ("O", "NEG"))
    await net.ok("hospital@H2", "PatientAntibodyRecorded", {"patient_id": patient,
                                                           "antibody": "anti-K"})
    # The antibody found at H2 protects the patient at H1: no electronic crossmatch.
    await refused(net, "hospital@H1", "UnitReserved",
                  reservation(red, patient, "O", "NEG", f"S-{patient}-2", "electronic"), 409,
                  "electronic-crossmatch-not-allowed")
    # sample-too-old: a sample drawn four days ago.
    await net.ok("hospital@H1", "PatientGroupDetermined",
                 group(patient, "S-A-OLD", "O", "NEG", 4 * 24 * 60))
    await refused(net, "hospital@H1", "UnitReserved",
                  reservation(red, patient, "O", "NEG", "S-A-OLD"), 409, "sample-too-old")
    await net.ok("hospital@H1", "UnitReserved",
                 reservation(red, patient, "O", "NEG", f"S-{patient}-2"))


async def dated_issue(net: Net, n: int, patient: str, minutes_ago: float) -> str:
    """O NEG red cells collected, tested, released, received at H1, reserved and issued
    ``minutes_ago``: every step dated a minute after the one before, inside the late-entry
    bound (no reason needed)."""
    donor, red = f"DNR-HP-{n}", f"{din(n)}-E0398V00"
    whole = f"{din(n)}-E0001V00"
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("collector@BB1", "DonorRegistered", {"donor_id": donor, "sex": "F"}),
        ("collector@BB1", "DonorScreened", {"donor_id": donor, "site_id": "BB1",
                                            "hb_g_l": 140, "pass": True}),
        ("collector@BB1", "DonationCollected", {
            "din": din(n), "donor_id": donor, "site_id": "BB1",
            "collection_type": "whole_blood", "product_code": "E0001V00",
            "category": "whole_blood", "volume_ml": 450}),
        ("processing@BB1", "UnitSplit", {"unit_id": whole, "components": [
            {"product_code": "E0398V00", "category": "red_cells", "volume_ml": 250}]}),
        *[("lab@LAB1", "TestResultRecorded", {"din": din(n), "marker": marker,
                                              "result": result, "lab_site_id": "LAB1"})
          for marker, result in (("HIV", "non_reactive"), ("HBV", "non_reactive"),
                                 ("HCV", "non_reactive"), ("SYPHILIS", "non_reactive"),
                                 ("ABO", "O"), ("RHD", "NEG"))],
        ("processing@BB1", "UnitReleased", {"unit_id": red}),
        ("inventory@BB1", "UnitShipped", {"unit_id": red, "from_site_id": "BB1",
                                          "to_site_id": "H1", "shipment_id": f"S-{n}"}),
        ("hospital@H1", "UnitReceived", {"unit_id": red, "site_id": "H1",
                                         "shipment_id": f"S-{n}", "accepted": True}),
        ("hospital@H1", "UnitReserved", reservation(red, patient, "O", "NEG")),
        ("hospital@H1", "UnitIssued", {"unit_id": red, "patient_id": patient}),
    ]
    for back, (key, type_, data) in zip(range(len(steps) - 1, -1, -1), steps, strict=True):
        response = await net.post(key, type_, data, occurred_at=ago(minutes_ago + back))
        assert response.status_code == 201, response.text
    return red


async def test_the_start_window_and_the_four_hour_rule(client, make_key):
    net = await Net(client, make_key).setup()
    # start-window-exceeded: issued 31 min ago, not started.
    late = await dated_issue(net, 9231, "PAT-HP-W", 31)
    await refused(net, "hospital@H1", "TransfusionStarted",
                  {"unit_id": late, "patient_id": "PAT-HP-W", "bedside_check": BEDSIDE}, 409,
                  "start-window-exceeded")
    # late-completion-reason-required: issued 5 h ago, started at once, completed now.
    slow = await dated_issue(net, 9232, "PAT-HP-L", 5 * 60)
    started = await net.post("hospital@H1", "TransfusionStarted", {
        "unit_id": slow, "patient_id": "PAT-HP-L", "bedside_check": BEDSIDE},
        occurred_at=ago(5 * 60 - 5))
    assert started.status_code == 201, started.text
    await refused(net, "hospital@H1", "UnitTransfused", {"unit_id": slow,
                                                         "patient_id": "PAT-HP-L"},
                  409, "late-completion-reason-required")
    await net.ok("hospital@H1", "UnitTransfused", {
        "unit_id": slow, "patient_id": "PAT-HP-L",
        "late_completion_reason": "slow rate: patient at risk of circulatory overload"})


async def test_rhd_positive_platelets_and_the_emergency_categories(client, make_key):
    net = await Net(client, make_key).setup()
    donor = "DNR-HP-PLT"
    await net.ok("collector@BB1", "DonorRegistered", {"donor_id": donor, "sex": "M"})
    await net.screen(donor)
    platelets = f"{din(9241)}-E3080V00"
    await net.ok("collector@BB1", "DonationCollected", {
        "din": din(9241), "donor_id": donor, "site_id": "BB1",
        "collection_type": "apheresis_platelets", "product_code": "E3080V00",
        "category": "platelets", "volume_ml": 60})
    await net.test_all(din(9241), "O", "POS")
    await net.ok("lab@LAB1", "TestResultRecorded", {
        "din": din(9241), "marker": "BACTERIA", "result": "non_reactive", "lab_site_id": "LAB1"})
    await net.ok("processing@BB1", "UnitReleased", {"unit_id": platelets})
    await net.ship(platelets, "H1")
    patient = "PAT-HP-NEG"
    await net.ok("hospital@H1", "PatientGroupDetermined", group(patient, "S-P-1", "O", "NEG"))
    await net.ok("hospital@H1", "UnitReserved",
                 reservation(platelets, patient, "O", "NEG", "S-P-1"))
    await refused(net, "hospital@H1", "UnitIssued", {"unit_id": platelets,
                                                     "patient_id": patient},
                  409, "rhd-platelets-need-prophylaxis")
    await net.ok("hospital@H1", "UnitIssued", {"unit_id": platelets, "patient_id": patient,
                                               "anti_d_prophylaxis": True})

    # emergency-product-not-allowed: A POS red cells for a patient of unknown group.
    red, _ = await red_cells(net, 9242, "A", "POS")
    emergency = {"unit_id": red, "patient_id": "PAT-HP-EM", "emergency": True,
                 "justification": "massive haemorrhage", "physician_id": "PHY-1"}
    await refused(net, "hospital@H1", "UnitIssued", emergency, 409,
                  "emergency-product-not-allowed")
    o_neg, _ = await red_cells(net, 9243)
    await net.ok("hospital@H1", "UnitIssued", emergency | {"unit_id": o_neg})
    await net.ok("hospital@H1", "PatientGroupDetermined",
                 group("PAT-HP-EM", "S-E-1", "B", "POS", 5))
    await net.ok("hospital@H1", "UnitReserved",
                 reservation(o_neg, "PAT-HP-EM", "B", "POS", "S-E-1"))
    crossmatched = (await net.get("hospital@H1", f"/v1/units/{o_neg}")).json()
    assert crossmatched.get("crossmatch") == "compatible", crossmatched


async def test_two_reservations_with_conflicting_groups_for_a_patient_of_no_record(
        client, make_key):
    """Review item 3 (issue 12) over HTTP: a patient with no recorded group is reserved as
    A POS at H1; a reservation of the same patient as B POS is a problem+json naming
    ``patient-group-conflict`` and leaves the log unchanged. Once the laboratory records two
    agreeing B POS samples, the record is the truth: the B POS reservation is accepted."""
    net = await Net(client, make_key).setup()
    first, _ = await red_cells(net, 9301)
    second, _ = await red_cells(net, 9302)
    patient = "PAT-WBIT-1"
    await net.ok("hospital@H1", "UnitReserved", reservation(first, patient, "A", "POS"))
    await refused(net, "hospital@H1", "UnitReserved",
                  reservation(second, patient, "B", "POS"), 409, "patient-group-conflict")
    await grouped(net, patient, ("B", "POS"), ("B", "POS"))
    await net.ok("hospital@H1", "UnitReserved",
                 reservation(second, patient, "B", "POS", f"S-{patient}-2"))
