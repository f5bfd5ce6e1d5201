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


def unit_of(step: Step) -> str | None:
    """The unit a step is about, or the one it makes (a collection, a pool)."""
    data = step.data
    for raw in (data.get("unit_id"),
                f"{data.get('din')}-{data.get('product_code')}"
                if data.get("din") and data.get("product_code") else None):
        if isinstance(raw, str):
            try:
                return isbt.parse_unit_id(raw)
            except DomainError:
                continue
    return None


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
        unit_id=_made_unit(step) or unit_of(step),
        signed_as=cmd.signature.meaning if cmd.signature is not None else None)


def _made_unit(step: Step) -> str | None:
    # A modification makes a new unit, DIN-{new product code}: the page links to it.
    if step.type != "UnitModified":
        return None
    unit_id, code = step.data.get("unit_id"), step.data.get("product_code")
    if not isinstance(unit_id, str) or not isinstance(code, str):
        return None
    try:
        return isbt.unit_id_of(isbt.din_of_unit(isbt.parse_unit_id(unit_id)), code)
    except DomainError:
        return None


def new_event_id(value: str | None) -> str | None:
    """A form's idempotency key when it is a UUID, else None (a fresh one is made)."""
    if not value:
        return None
    try:
        return str(UUID(value))
    except ValueError:
        return None
