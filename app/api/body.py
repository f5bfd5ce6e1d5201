"""Reading request bodies: size limit, strict JSON, no floats, the event envelope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import orjson
from fastapi import Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from app.errors import FloatNotAllowed, InvalidInput, MalformedRequest, PayloadTooLarge
from app.events.envelope import Actor, Command
from app.store.writer import content_hash

FUTURE_SKEW = timedelta(minutes=5)


class EventIn(BaseModel):
    """One event to record, as an integrator sends it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "type": "DonorRegistered",
            "data": {"donor_id": "DNR-7QX2K9", "abo": "O", "rhd": "NEG"},
            "event_id": "5b0f9a34-4a8e-4b8e-9d7e-0c3f8f1e2a11",
            "occurred_at": "2026-11-20T09:30:00Z",
        }]},
    )

    type: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z]+$")
    data: dict[str, Any]
    event_id: UUID | None = None
    occurred_at: AwareDatetime | None = None
    expected_version: int | None = Field(default=None, ge=0)


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
    """Refuse any floating-point number anywhere in the payload, naming where."""
    if isinstance(value, float):
        raise FloatNotAllowed(f"{path or 'value'} is a floating-point number", field=path or None)
    if isinstance(value, dict):
        for key, item in value.items():
            reject_floats(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            reject_floats(item, f"{path}[{i}]")


def command_from_json(raw: Any, actor: Actor, now: datetime) -> tuple[Command, bytes]:
    """Turn one parsed envelope into a Command and its idempotency content hash."""
    if not isinstance(raw, dict):
        raise InvalidInput("an event must be a JSON object", field=None)
    reject_floats(raw)
    try:
        envelope = EventIn.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"{field}: {first['msg']}", field=field or None) from None
    occurred = envelope.occurred_at.astimezone(UTC) if envelope.occurred_at else now
    if occurred > now + FUTURE_SKEW:
        raise InvalidInput("occurred_at is in the future", field="occurred_at")
    cmd = Command(
        type=envelope.type,
        data=envelope.data,
        event_id=envelope.event_id or uuid4(),
        occurred_at=occurred,
        recorded_at=now,
        actor=actor,
        expected_version=envelope.expected_version,
    )
    return cmd, content_hash(cmd, envelope.occurred_at is not None)
