"""RULES §8, haemovigilance: given a unit whose transfusion started, when the hospital reports
a reaction, then the report is accepted from the start (also for a transfusion stopped
because of it), is coded (type, severity, imputability), and a bacterial, TRALI or viral
reaction holds every live co-component of the donation and defers the donor pending
investigation, in the same decision."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.support.scene import Scene, actor, din, scene

H1 = actor("hospital", "H1")
H2 = actor("hospital", "H2")
HOLDING = ("bacterial_infection", "trali", "viral_infection")
NOT_HOLDING = ("abo_haemolysis", "other_alloimmune_haemolysis", "non_immune_haemolysis",
               "anaphylaxis", "taco", "parasitic_infection", "ptp", "ta_gvhd", "fnhtr",
               "allergic", "other")


def started(s: Scene, patient: str = "PAT-1", plasma_at: str = "BB1") -> tuple[str, str, str]:
    """One donation split into red cells and plasma, both released; the red cells reserved,
    issued and started for ``patient`` at H1, the plasma in stock at ``plasma_at``. Returns
    the red cells, the plasma and the donor."""
    parent = s.collect()
    red, plasma = s.split(parent)
    s.test_all(din(s.dins))
    s.release(red)
    s.release(plasma)
    s.receive(red, s.ship(red, "H1"), "H1")
    if plasma_at != "BB1":
        s.receive(plasma, s.ship(plasma, plasma_at), plasma_at)
    s.reserve(red, patient)
    s.issue(red, patient)
    s.start(red, patient)
    donor = s.unit(red).donor_id
    assert donor is not None
    return red, plasma, donor


def reaction(unit: str, reaction_type: str = "fnhtr", patient: str = "PAT-1",
             severity: str = "non_severe", imputability: str = "possible") -> dict[str, Any]:
    return {"unit_id": unit, "patient_id": patient, "reaction_type": reaction_type,
            "severity": severity, "imputability": imputability}


def adverse_reaction_deferrals(s: Scene, donor: str) -> list[Any]:
    return [d for d in s.donor(donor).active_deferrals(s.now) if d.cause == "adverse_reaction"]


# --- when a reaction may be reported --------------------------------------------------------


def test_adverse_reaction_reported_once_the_transfusion_has_started() -> None:
    """Given a unit issued to PAT-1 and not yet started,
    when a reaction is reported, it is refused (not-transfused on data.patient_id);
    given the transfusion then started (no UnitTransfused yet),
    when the reaction is reported, it is accepted."""
    # review item: (6) a reaction could be reported only after UnitTransfused.
    s = scene()
    unit = s.released_component("O", "NEG")
    s.reserve(unit, "PAT-1")
    s.issue(unit, "PAT-1")
    err = s.refuse("AdverseReactionReported", reaction(unit), H1)
    assert (err.rule, err.field) == ("not-transfused", "data.patient_id")
    s.start(unit, "PAT-1")
    [event] = s.do("AdverseReactionReported", reaction(unit), H1)
    assert event.type == "AdverseReactionReported"
    assert ("patient", "PAT-1") in event.refs
    assert s.unit(unit).fate is None  # a report is no final fate


def test_adverse_reaction_reported_for_a_transfusion_stopped_because_of_it() -> None:
    """Given a transfusion started and then stopped after 60 mL because of a reaction
    (UnitTransfused with stopped_reason),
    when the reaction is reported, then it is accepted."""
    # review item: (6) a transfusion stopped because of a reaction could not be reported.
    s = scene()
    red, _, _ = started(s)
    s.do("UnitTransfused", {"unit_id": red, "patient_id": "PAT-1", "volume_ml": 60,
                            "stopped_reason": "urticaria, stopped"}, H1)
    [event] = s.do("AdverseReactionReported", reaction(red, "allergic"), H1)
    assert event.type == "AdverseReactionReported"


def test_adverse_reaction_reported_only_for_the_recipient_by_the_site_that_gave_it() -> None:
    """Given red cells started for PAT-1 at H1,
    when a reaction is reported for PAT-2, it is refused (not-transfused); by H2, refused
    (not-custodian)."""
    s = scene()
    red, _, _ = started(s)
    assert s.refuse("AdverseReactionReported", reaction(red, patient="PAT-2"),
                    H1).rule == "not-transfused"
    assert s.refuse("AdverseReactionReported", reaction(red), H2).rule == "not-custodian"


# --- coded ----------------------------------------------------------------------------------


@pytest.mark.parametrize("reaction_type", ["FNHTR", "fever", "septic shock", "Bacterial", ""])
def test_reaction_type_is_coded_uncoded_is_refused(reaction_type: str) -> None:
    """Given a started transfusion,
    when a reaction is reported with a type outside RULES §8's codes (free text, or a code in
    the wrong case), then it is refused (invalid-event-data on data.reaction_type)."""
    # review item: (8) reaction_type was free text.
    s = scene()
    red, _, _ = started(s)
    err = s.refuse("AdverseReactionReported", reaction(red, reaction_type), H1)
    assert (err.rule, err.field) == ("invalid-event-data", "data.reaction_type")


@pytest.mark.parametrize(("field", "value"), [
    ("severity", "mild"), ("severity", "serious"), ("severity", "grade 2"),
    ("imputability", "probable"), ("imputability", "definite"), ("imputability", "yes")])
def test_severity_and_imputability_are_coded(field: str, value: str) -> None:
    """Given a started transfusion,
    when a reaction is reported with an uncoded severity or imputability, then it is refused
    (invalid-event-data on that field)."""
    s = scene()
    red, _, _ = started(s)
    err = s.refuse("AdverseReactionReported", {**reaction(red), field: value}, H1)
    assert (err.rule, err.field) == ("invalid-event-data", f"data.{field}")


@pytest.mark.parametrize(("severity", "imputability"), [
    ("non_severe", "not_assessable"), ("severe", "excluded"), ("life_threatening", "unlikely"),
    ("death", "certain"), ("severe", "likely"), ("non_severe", "possible")])
def test_severity_and_imputability_coded_values_are_accepted(
        severity: str, imputability: str) -> None:
    """When a reaction is reported with each coded severity and imputability, then it is
    accepted as given."""
    s = scene()
    red, _, _ = started(s)
    [event] = s.do("AdverseReactionReported",
                   reaction(red, "taco", severity=severity, imputability=imputability), H1)
    assert (event.data.severity, event.data.imputability) == (  # type: ignore[attr-defined]
        severity, imputability)


# --- reactions that hold the co-components and defer the donor -----------------------------


def test_bacterial_reaction_holds_co_components_and_defers_the_donor() -> None:
    """Given a donation's red cells transfused (stopped) at H1 and its plasma in stock at H2,
    when a septic (bacterial_infection) reaction is reported, then in the same decision the
    plasma gets an adverse_reaction hold for the donation (seen in H2's feed) and the donor
    is deferred, pending investigation, for that donation; the donor may not give again."""
    # review item: (7) a septic reaction triggered no hold on the co-components and no donor
    # action.
    s = scene()
    red, plasma, donor = started(s, plasma_at="H2")
    s.do("UnitTransfused", {"unit_id": red, "patient_id": "PAT-1", "volume_ml": 100,
                            "stopped_reason": "fever 39.5, hypotension"}, H1)
    events = s.do("AdverseReactionReported",
                  reaction(red, "bacterial_infection", severity="life_threatening",
                           imputability="likely"), H1)
    assert [e.type for e in events] == [
        "AdverseReactionReported", "UnitQuarantined", "DonorDeferred"]
    hold_event, deferral_event = events[1], events[2]
    assert hold_event.stream == plasma and ("site", "H2") in hold_event.refs
    [hold] = s.unit(plasma).open_holds
    assert (hold.cause, hold.din) == ("adverse_reaction", din(1))
    assert s.unit(plasma).status == "quarantined"
    assert deferral_event.stream == f"donor:{donor}"
    [deferral] = adverse_reaction_deferrals(s, donor)
    assert (deferral.pending_confirmation, deferral.until, deferral.din) == (True, None, din(1))
    assert s.donor(donor).deferred_at(s.now)
    later = s.now + timedelta(days=90)  # past the whole-blood interval
    err = s.refuse("DonationCollected", {
        "din": din(2), "donor_id": donor, "site_id": "BB1", "collection_type": "whole_blood",
        "product_code": "E0001V00", "category": "whole_blood", "volume_ml": 450},
        actor("collector", "BB1"), at=later)
    assert err.rule == "donor-deferred"
    err = s.refuse("UnitReserved", {"unit_id": plasma, "patient_id": "PAT-2",
                                    "patient_abo": "O", "patient_rhd": "NEG",
                                    "crossmatch": "compatible"}, H2)
    assert err.rule == "unit-quarantined"


@pytest.mark.parametrize("reaction_type", HOLDING)
def test_bacterial_trali_and_viral_reactions_hold_and_defer(reaction_type: str) -> None:
    """Given a donation's red cells started at H1 and its plasma in stock,
    when a bacterial, TRALI or viral reaction is reported, then the plasma is held
    (adverse_reaction) and the donor deferred pending investigation, in the same decision."""
    # review item: (7) RULES §8: TRALI and viral likewise.
    s = scene()
    red, plasma, donor = started(s)
    events = s.do("AdverseReactionReported", reaction(red, reaction_type, severity="severe"),
                  H1)
    held = {e.stream for e in events if e.type == "UnitQuarantined"}
    assert plasma in held
    assert [e.type for e in events].count("DonorDeferred") == 1
    assert [h.cause for h in s.unit(plasma).open_holds] == ["adverse_reaction"]
    assert len(adverse_reaction_deferrals(s, donor)) == 1


@pytest.mark.parametrize("reaction_type", NOT_HOLDING)
def test_other_reactions_hold_nothing_and_defer_no_one(reaction_type: str) -> None:
    """Given a donation's red cells started at H1 and its plasma in stock,
    when any other coded reaction is reported, then it is recorded alone: the plasma stays
    released and the donor is not deferred."""
    s = scene()
    red, plasma, donor = started(s)
    events = s.do("AdverseReactionReported", reaction(red, reaction_type, severity="severe"),
                  H1)
    assert [e.type for e in events] == ["AdverseReactionReported"]
    assert s.unit(plasma).status == "released"
    assert not s.donor(donor).deferred_at(s.now)


def test_a_second_holding_reaction_from_the_same_donation_defers_the_donor_once() -> None:
    """Given a donation's red cells started for PAT-1 and its plasma started for PAT-2,
    when both recipients have a bacterial reaction reported, then the first report holds and
    defers; the second finds the hold and the deferral in place and records the report
    alone."""
    s = scene()
    red, plasma, donor = started(s, "PAT-1")
    s.receive(plasma, s.ship(plasma, "H1"), "H1")
    s.reserve(plasma, "PAT-2")
    s.issue(plasma, "PAT-2")
    s.start(plasma, "PAT-2")
    first = s.do("AdverseReactionReported", reaction(red, "bacterial_infection"), H1)
    assert "DonorDeferred" in [e.type for e in first]
    second = s.do("AdverseReactionReported",
                  reaction(plasma, "bacterial_infection", patient="PAT-2"), H1)
    assert [e.type for e in second] == ["AdverseReactionReported"]
    assert len(adverse_reaction_deferrals(s, donor)) == 1
