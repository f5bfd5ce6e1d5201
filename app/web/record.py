"""Recording a step from a page: the form's step becomes the event envelope an integrator
would send, recorded through the same path as ``POST /v1/events``
(``app.api.recording.record_envelope``): the actor is the signed-in person, the domain
authorises and decides, the writer appends, and a refusal is the same ``DomainError`` the
API would answer with.

A step that needs an electronic signature (WEB.md §1, ``app.events.signatures``) carries
the password (and TOTP code) typed again on the form, with the meaning that step signs; the
password is checked against the account exactly as for the API and then dropped. One step
is one envelope and one append: it lands whole, with its consequences, or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from app.api.metrics import Metrics
from app.api.recording import count, record_envelope
from app.bootstrap import Services
from app.errors import DomainError
from app.events import isbt
from app.events.messages import Actor
from app.events.signatures import meaning_of


@dataclass(frozen=True, slots=True)
class Step:
    """One step a form asks to record: the event type and its data, as the API takes them.

    ``event_id`` is the form's idempotency key, made when the form was shown: submitting
    the same form twice records the step once."""

    type: str
    data: Mapping[str, Any]
    event_id: str | None = None
    late_entry_reason: str | None = None
    occurred_at: str | None = None


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a person types to sign: their password again, and the TOTP code where set."""

    password: str
    totp: str | None = None

    def __repr__(self) -> str:  # never in a log or a traceback
        return "Credentials(password=***)"


@dataclass(frozen=True, slots=True)
class Recorded:
    """Where a recorded step landed, for the page to show."""

    position: int
    event_id: str
    type: str
    stream: str
    stream_version: int
    replayed: bool
    derived: tuple[int, ...] = ()
    unit_id: str | None = None
    """The unit the step was about (or made), for the link to ``/units/{unit_id}``."""
    signed_as: str | None = None


def signature_meaning(step: Step) -> str | None:
    """What signing this step means, when it is one a person signs (release, lifting a
    hold, an emergency issue, an override, reinstating a donor, closing a lookback)."""
    return meaning_of(step.type, step.data)


def envelope(step: Step, credentials: Credentials | None) -> dict[str, Any]:
    """The event envelope of ``step``, as ``POST /v1/events`` takes it. A signature is
    attached only to a step that is signed and only when a password was typed; a signed
    step without one is the domain's ``signature-required`` refusal."""
    raw: dict[str, Any] = {"type": step.type, "data": dict(step.data)}
    for name in ("event_id", "late_entry_reason", "occurred_at"):
        value = getattr(step, name)
        if value:
            raw[name] = value
    meaning = signature_meaning(step)
    if meaning is not None and credentials is not None and credentials.password:
        signature = {"password": credentials.password, "meaning": meaning}
        if credentials.totp:
            signature["totp"] = credentials.totp
        raw["signature"] = signature
    return raw


def _unit_id(raw: object) -> str | None:
    try:
        return isbt.parse_unit_id(raw) if isinstance(raw, str) else None
    except DomainError:
        return None


def unit_of(data: Mapping[str, Any]) -> str | None:
    """The unit a step's data is about, or the one it makes (a modification's new unit
    ``DIN-{new product code}``, a collection's, a pool's): the page it links to."""
    unit_id, code, din = _unit_id(data.get("unit_id")), data.get("product_code"), data.get("din")
    if data.get("new_unit_id") is not None:  # a stored modification, enriched
        return _unit_id(data["new_unit_id"])
    if unit_id is not None and "modification" in data and isinstance(code, str):
        return _unit_id(f"{isbt.din_of_unit(unit_id)}-{code}")
    if unit_id is None and isinstance(din, str) and isinstance(code, str):
        return _unit_id(f"{din}-{code}")
    return unit_id


async def record_step(services: Services, actor: Actor, step: Step,
                      credentials: Credentials | None = None,
                      metrics: Metrics | None = None) -> Recorded:
    """Record ``step`` for the signed-in ``actor``; raises the ``DomainError`` that refused
    it. ``metrics`` counts the outcome as the API counts its own."""
    try:
        cmd, result = await record_envelope(services, actor, envelope(step, credentials))
    except DomainError as err:
        if metrics is not None:
            count(metrics, step.type, err)
        raise
    if metrics is not None:
        count(metrics, cmd.type, result)
    return Recorded(
        position=result.position, event_id=str(result.event_id), type=cmd.type,
        stream=result.stream, stream_version=result.stream_version,
        replayed=result.replayed, derived=tuple(result.derived),
        unit_id=unit_of(step.data),
        signed_as=cmd.signature.meaning if cmd.signature is not None else None)


def new_event_id(value: str | None) -> str | None:
    """A form's idempotency key when it is a UUID, else None (a fresh one is made)."""
    if not value:
        return None
    try:
        return str(UUID(value))
    except ValueError:
        return None
