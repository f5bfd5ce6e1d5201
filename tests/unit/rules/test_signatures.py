"""WEB.md §1, electronic signatures: given a step that needs one (release, lifting a blood
establishment's hold, emergency issue, an override, reinstating a donor, closing a
lookback), when it comes unsigned, from a machine, or signed for something else, then it is
refused with its rule; signed by the person doing it, the event keeps who, what and when."""

from __future__ import annotations

from dataclasses import replace

from app.events.messages import Command, Signature
from app.events.signatures import meaning_of
from tests.support.scene import actor, din, machine, scene

PROCESSING = actor("processing", "BB1")


def _unsigned(cmd: Command) -> Command:
    return replace(cmd, signature=None)


def test_release_unsigned_by_a_person_is_refused_and_names_the_meaning() -> None:
    s = scene()
    unit = s.collect()
    s.test_all(din(1))
    err = s.refuse_command(_unsigned(s.command("UnitReleased", {"unit_id": unit}, PROCESSING)))
    assert (err.rule, err.field, err.extra["meaning"]) == (
        "signature-required", "signature", "release")


def test_a_machine_cannot_release_a_unit() -> None:
    s = scene()
    unit = s.collect()
    s.test_all(din(1))
    err = s.refuse("UnitReleased", {"unit_id": unit}, machine("processing", "BB1"))
    assert err.rule == "signature-required"
    assert "machine" in err.detail


def test_a_signature_that_is_not_the_actors_own_is_a_machine_signing() -> None:
    s = scene()
    unit = s.collect()
    s.test_all(din(1))
    cmd = s.command("UnitReleased", {"unit_id": unit}, PROCESSING)
    forged = replace(cmd, actor=machine("processing", "BB1"))
    assert s.refuse_command(forged).rule == "machine-cannot-sign"
    other = replace(cmd, signature=Signature("someone-else", "release", cmd.recorded_at))
    assert s.refuse_command(other).rule == "machine-cannot-sign"


def test_a_signature_meaning_something_else_is_refused() -> None:
    s = scene()
    unit = s.collect()
    s.test_all(din(1))
    cmd = s.command("UnitReleased", {"unit_id": unit}, PROCESSING)
    assert cmd.signature is not None
    wrong = replace(cmd, signature=replace(cmd.signature, meaning="lift hold"))
    err = s.refuse_command(wrong)
    assert (err.rule, err.field) == ("signature-meaning", "signature.meaning")


def test_a_signed_release_keeps_who_what_and_when_in_the_record() -> None:
    s = scene()
    unit = s.collect()
    s.test_all(din(1))
    [released] = s.do("UnitReleased", {"unit_id": unit}, PROCESSING)
    assert released.signature is not None
    assert (released.signature.user_id, released.signature.meaning) == (
        "person-processing-BB1", "release")
    stored = s.stored()[-1]
    assert b'"signature":{"meaning":"release","signed_at":' in stored.record
    assert b'"user_id":"person-processing-BB1"' in stored.record
    assert stored.signature == released.signature


def test_lifting_a_blood_establishment_hold_is_signed_a_custodians_own_hold_is_not() -> None:
    s = scene()
    unit = s.collect()
    s.do("LookbackStarted", {"lookback_id": "LB-S", "din": din(1), "marker": "HIV"},
         PROCESSING)
    lift = s.command("QuarantineLifted", {"unit_id": unit, "reason": "lookback cleared"},
                     PROCESSING)
    assert s.refuse_command(_unsigned(lift)).rule == "signature-required"
    other = s.collect()
    s.do("UnitQuarantined", {"unit_id": other, "reason": "label smudged"}, PROCESSING)
    s.run(_unsigned(s.command("QuarantineLifted", {"unit_id": other, "reason": "relabelled"},
                              PROCESSING)))
    assert not s.unit(other).quarantined


def test_emergency_issue_and_override_are_signed_with_their_own_meanings() -> None:
    assert meaning_of("UnitIssued", {"emergency": True}) == "emergency issue"
    assert meaning_of("UnitIssued", {"override_reason": "no RhD-negative platelets"}) == (
        "override")
    assert meaning_of("UnitIssued", {"unit_id": "x"}) is None
    s = scene()
    unit = s.released_component()
    issue = s.command("UnitIssued", {
        "unit_id": unit, "patient_id": "PAT-EM", "emergency": True,
        "justification": "massive haemorrhage", "physician_id": "DR-1"},
        actor("hospital", "H1"))
    assert issue.signature is not None and issue.signature.meaning == "emergency issue"
    err = s.refuse_command(_unsigned(issue))
    assert (err.rule, err.extra["meaning"]) == ("signature-required", "emergency issue")
    [issued] = s.run(issue)
    assert issued.signature is not None


def test_reinstating_a_donor_is_signed() -> None:
    s = scene()
    donor = s.new_donor()
    s.do("DonorDeferred", {"donor_id": donor, "reason": "travel", "cause": "travel",
                           "until": "2099-01-01T00:00:00Z"}, actor("collector", "BB1"))
    cmd = s.command("DonorReinstated", {"donor_id": donor, "reason": "back early"},
                    PROCESSING, at=s.later(hours=1))
    err = s.refuse_command(_unsigned(cmd))
    assert (err.rule, err.extra["meaning"]) == ("signature-required", "reinstate donor")


def test_derived_events_never_carry_the_signature() -> None:
    s = scene()
    unit = s.collect()
    s.test_all(din(1))
    s.later(minutes=5)
    events = s.do("LookbackStarted", {"lookback_id": "LB-D", "din": din(1), "marker": "HIV"},
                  PROCESSING)
    assert all(e.signature is None for e in events)  # not a signed step at all
    lift = s.do("QuarantineLifted", {"unit_id": unit, "reason": "cleared"}, PROCESSING)
    assert lift[0].signature is not None
    assert all(e.signature is None for e in lift[1:])
