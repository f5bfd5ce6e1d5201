"""Reading request bodies: size limit, strict JSON, no floats, the event envelope."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar
from uuid import UUID, uuid4

import orjson
from fastapi import Request
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from app.api.catalogue_doc import event_examples
from app.api.params import RFC3339
from app.errors import FloatNotAllowed, InvalidInput, MalformedRequest, PayloadTooLarge
from app.events.messages import Actor, Command, content_hash

FUTURE_SKEW = timedelta(minutes=5)
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
    event_id: UUID | None = None
    occurred_at: Rfc3339 | None = None
    expected_version: int | None = Field(default=None, ge=0)
    late_entry_reason: str | None = Field(
        default=None, min_length=1, max_length=500,
        description="why a step is recorded more than the catalogue's late-entry bound "
                    "(72 h) after it happened; such steps are listed in /v1/audit/late-entries")


async def read_json(request: Request, max_bytes: int) -> Any:
    """The parsed body; 413 past ``max_bytes``, 400 when it is not JSON."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"body of {declared} bytes exceeds the limit of {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"body exceeds the limit of {max_bytes} bytes")
        chunks.append(chunk)
    try:
        return orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError as err:
        raise MalformedRequest(f"body is not valid JSON: {err}") from None


def reject_floats(value: Any, path: str = "") -> None:
    """Refuse any floating-point number anywhere in the payload, naming where; and any text
    holding U+0000, which PostgreSQL text cannot store."""
    if isinstance(value, float):
        raise FloatNotAllowed(f"{path or 'value'} is a floating-point number", field=path or None)
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidInput(f"{path or 'value'} contains the character U+0000",
                               field=path or None)
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if "\x00" in key:
                raise InvalidInput(f"a key of {path or 'the body'} contains U+0000",
                                   field=path or None)
            reject_floats(item, name)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            reject_floats(item, f"{path}[{i}]")


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


def command_from_json(raw: Any, actor: Actor, now: datetime) -> tuple[Command, bytes]:
    """Turn one parsed envelope into a Command and its idempotency content hash."""
    if not isinstance(raw, dict):
        raise InvalidInput("an event must be a JSON object", field=None)
    envelope = parse_model(EventIn, raw)
    occurred = _in_utc(envelope.occurred_at) if envelope.occurred_at else now
    if occurred.year < 1900:
        raise InvalidInput("occurred_at is before 1900", field="occurred_at")
    if occurred > now + FUTURE_SKEW:
        raise InvalidInput("occurred_at is in the future", field="occurred_at")
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
    return cmd, content_hash(cmd, envelope.occurred_at is not None)
