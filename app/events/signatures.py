"""Electronic signatures: which steps a person must sign, and with what meaning (WEB.md §1,
21 CFR 11.50 and 11.200, EU GMP Annex 11 §14).

A signed step is release, lifting a blood-establishment hold, an emergency issue, an override
(RULES §7: an issue with ``override_reason``), reinstating a donor and closing a lookback.
Each event type declares what signing it means (``EventType.signs``); ``check_signature``
refuses the command when the meaning asks for a signature it lacks, or carries one that a
machine made or that means something else. The password is checked at the HTTP edge before
a ``Signature`` exists at all: the domain only ever sees who signed, the meaning and when.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from app.errors import MachineCannotSign, SignatureMeaningMismatch, SignatureRequired
from app.events.messages import Command, Signature

RELEASE: Final = "release"
LIFT_HOLD: Final = "lift hold"
EMERGENCY_ISSUE: Final = "emergency issue"
OVERRIDE: Final = "override"
REINSTATE_DONOR: Final = "reinstate donor"
CLOSE_LOOKBACK: Final = "close lookback"

SIGNED_TYPES: Final = frozenset({
    "UnitReleased", "QuarantineLifted", "UnitIssued", "DonorReinstated", "LookbackClosed"})
"""The event types that need a signature in some case (``meaning_of`` says which)."""


def always(meaning: str) -> Callable[[Any, Any], str]:
    """``EventType.signs`` for a step that is signed every time."""
    def signs(world: Any, data: Any) -> str:
        return meaning
    return signs


def issue_meaning(data: Mapping[str, Any]) -> str | None:
    """An emergency issue and an override are signed; a plain crossmatched issue is not."""
    if data.get("emergency") is True:
        return EMERGENCY_ISSUE
    if data.get("override_reason") is not None:
        return OVERRIDE
    return None


def meaning_of(event_type: str, data: Mapping[str, Any]) -> str | None:
    """What a person signs for this step, as a client can tell from its own data: the
    meaning to send with ``signature`` (a hold lift is signed when the hold is the blood
    establishment's; signing a lift that needs none is allowed)."""
    if event_type == "UnitIssued":
        return issue_meaning(data)
    return {"UnitReleased": RELEASE, "QuarantineLifted": LIFT_HOLD,
            "DonorReinstated": REINSTATE_DONOR, "LookbackClosed": CLOSE_LOOKBACK,
            }.get(event_type)


def check_signature(cmd: Command, required: str | None) -> None:
    """Refuse ``cmd`` when its step needs a signature (``required``: the meaning) and has
    none, when a machine's key signed, or when the signature means something else."""
    signature = cmd.signature
    if signature is not None and (cmd.actor.user_id is None
                                  or signature.user_id != cmd.actor.user_id):
        raise MachineCannotSign("only the signed-in person may sign, as themselves",
                                field="signature")
    if required is None:
        return
    if signature is None:
        who = ("an API key is a machine's and cannot sign: the person doing it signs in "
               "and signs the step" if cmd.actor.user_id is None
               else "send signature: {password, totp?, meaning}")
        raise SignatureRequired(f"{cmd.type} ({required}) needs an electronic signature; "
                                f"{who}", field="signature", meaning=required)
    if signature.meaning != required:
        raise SignatureMeaningMismatch(
            f"this step is signed as {required!r}, not {signature.meaning!r}",
            field="signature.meaning", meaning=required)


def signed(cmd: Command, at: datetime | None = None) -> Command:
    """``cmd`` signed by the person recording it, with the meaning its step asks for
    (``meaning_of``); unchanged when the step is not one a person signs. For in-process
    callers that already know who the person is (the simulator's staff, the domain's
    specs): over HTTP a signature is made only once the password has been checked again."""
    meaning = meaning_of(cmd.type, cmd.data)
    if meaning is None or cmd.actor.user_id is None:
        return cmd
    return replace(cmd, signature=Signature(
        user_id=cmd.actor.user_id, meaning=meaning,
        signed_at=at if at is not None else cmd.recorded_at))
