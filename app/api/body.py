"""Reading request bodies (strict JSON, ``app.api.strict_json``) and the event envelope."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID, uuid4

from fastapi import Request
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from app.api.catalogue_doc import event_examples
from app.api.params import RFC3339
from app.api.strict_json import check_value, parse, read_body, require_json_content
from app.config import Settings
from app.errors import InvalidInput, MachineCannotSign
from app.events.messages import Actor, Command, content_hash

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
"""No step of a blood unit's life is recorded as happening before this."""
_RFC3339 = re.compile(RFC3339)


def _rfc3339(value: Any) -> Any:
    # pydantic would also take "0" or 1700000000 as a time; the contract is RFC 3339 text.
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 time with a zone, e.g. 2026-11-20T09:30:00Z")
    return value


Rfc3339 = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]
"""A time given as RFC 3339 text with a zone."""


def _not_nil(value: UUID) -> UUID:
    # The nil UUID is what a client sends when it forgot to make one: shared by everyone,
    # it would make every such client's retry another's.
    if value.int == 0:
        raise ValueError("must not be the nil UUID; make a random one (UUID version 4)")
    return value


EventId = Annotated[UUID, AfterValidator(_not_nil)]
"""A client's idempotency key: any UUID but the nil one."""


class SignatureIn(BaseModel):
    """A person's electronic signature of the step: their password (and TOTP code, where
    set) given again, and what the signing means ("release", "emergency issue", ...). The
    password is checked and dropped: the event keeps only who signed, the meaning and when.
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    password: str = Field(min_length=1, max_length=1024)
    totp: str | None = Field(default=None, pattern=r"^[0-9]{6}$")
    meaning: str = Field(min_length=1, max_length=100)


class EventIn(BaseModel):
    """One event to record, as an integrator sends it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            **event_examples()[0],
            "event_id": "5b0f9a34-4a8e-4b8e-9d7e-0c3f8f1e2a11",
            "occurred_at": "2026-11-20T09:30:00Z",
        }, *event_examples()[1:]]},
    )

    type: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z]+$")
    data: dict[str, Any]
    event_id: EventId | None = None
    occurred_at: Rfc3339 | None = None
    expected_version: int | None = Field(default=None, ge=0)
    late_entry_reason: str | None = Field(
        default=None, min_length=1, max_length=500,
        description="why a step is recorded more than the catalogue's late-entry bound "
                    "(72 h) after it happened; such steps are listed in /v1/audit/late-entries")
    signature: SignatureIn | None = Field(
        default=None, description="a signed-in person's signature, which release, lifting a "
        "blood-establishment hold, an emergency issue, an override, reinstating a donor and "
        "closing a lookback need; an API key cannot sign")


async def read_json(request: Request, settings: Settings, max_elements: int | None = None) -> Any:
    """The parsed body (``app.api.strict_json``): 415 unless declared JSON, 408 when it is
    slower than the read deadline, 413 past the size or element limit, 400 when it is not
    JSON. Objects repeating a key are marked, and refused by ``parse_model``."""
    require_json_content(request)
    raw = await read_body(request, settings.max_body_bytes, settings.body_read_timeout_s)
    return parse(raw, settings.max_json_elements if max_elements is None else max_elements)


def reject_floats(value: Any, path: str = "") -> None:
    """Refuse floats, U+0000, repeated keys and deep nesting anywhere in ``value``."""
    check_value(value, path)


M = TypeVar("M", bound=BaseModel)


def parse_model(model: type[M], raw: Any) -> M:
    """A parsed body as ``model``; 422 naming the first offending field."""
    reject_floats(raw)
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        raise InvalidInput.from_validation(err.errors()) from None


def _in_utc(moment: datetime) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset, year 9999 with a negative one
        raise InvalidInput("occurred_at is out of range", field="occurred_at") from None


def command_from_json(
    raw: Any, actor: Actor, now: datetime,
) -> tuple[Command, bytes, SignatureIn | None]:
    """Turn one parsed envelope into a Command, its idempotency content hash and the
    signature to check (``app.api.signing`` makes it the command's); a machine's key that
    sends a signature is refused here."""
    if not isinstance(raw, dict):
        raise InvalidInput("an event must be a JSON object", field=None)
    envelope = parse_model(EventIn, raw)
    if envelope.signature is not None and actor.user_id is None:
        raise MachineCannotSign("an API key is a machine's and cannot sign; the person doing "
                                "the step signs in (POST /v1/session) and signs it",
                                field="signature")
    occurred = _in_utc(envelope.occurred_at) if envelope.occurred_at else now
    # How far after the server clock a step may be dated is the catalogue's rule
    # (``occurred-in-future``), decided with the late-entry bound in the domain.
    if occurred < EARLIEST:
        raise InvalidInput("occurred_at is before 1900", field="occurred_at")
    cmd = Command(
        type=envelope.type,
        data=envelope.data,
        event_id=envelope.event_id or uuid4(),
        occurred_at=occurred,
        recorded_at=now,
        actor=actor,
        expected_version=envelope.expected_version,
        late_entry_reason=envelope.late_entry_reason,
    )
    return cmd, content_hash(cmd, envelope.occurred_at is not None), envelope.signature
