"""The one place events become record bytes, and records become events again.

``record_of`` writes a decided event's model into the canonical record the log hashes;
``stored_event_from_row`` reads a record back, upcasting data of older schema versions to the
current model of its type before decoding it. Nothing else serialises or parses event data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final
from uuid import UUID

import orjson

from app.events.messages import Actor, NewEvent, Signature, StoredEvent
from app.events.payload import dump
from app.events.registry import decode
from app.log.record import build_record, parse_time

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: Final[Mapping[tuple[str, int], Upcaster]] = {}
"""(type, schema version) → the step to the next version. Empty while v1 is the only one; a
new version of a type adds its step here and never rewrites a stored record."""
CURRENT_VERSION: Final = 1


def upcast(event_type: str, version: int, data: dict[str, Any],
           steps: Mapping[tuple[str, int], Upcaster] = UPCASTERS) -> dict[str, Any]:
    """Data of ``event_type`` at ``version`` brought to the current version, step by step."""
    while (event_type, version) in steps:
        data = steps[(event_type, version)](data)
        version += 1
    return data


def event_body(event: NewEvent) -> dict[str, Any]:
    """The JSON data of a decided event, as the record holds it."""
    return dump(event.data)


def record_of(event: NewEvent, body: dict[str, Any], position: int, stream_version: int,
              recorded_at: datetime) -> bytes:
    """The canonical record of ``event`` (its data dumped as ``body``) at ``position``."""
    return build_record(
        position=position, event_id=str(event.event_id), stream=event.stream,
        stream_version=stream_version, type=event.type, schema_version=event.schema_version,
        data=body, occurred_at=event.occurred_at, recorded_at=recorded_at,
        actor=event.actor.as_record(), late_entry_reason=event.late_entry_reason,
        signature=event.signature.as_record() if event.signature is not None else None,
    )


def stored_event_from_row(row: Any) -> StoredEvent:
    """Decode a row holding at least ``record``, ``leaf_hash`` and ``chain_hash``."""
    return stored_event(row["record"], row["leaf_hash"], row["chain_hash"])


def stored_event(record: bytes, leaf_hash: bytes, chain_hash: bytes) -> StoredEvent:
    """Decode a record (and its stored hashes) into the event it holds."""
    return parsed_event(orjson.loads(record), record, leaf_hash, chain_hash)


def parsed_event(raw: dict[str, Any], record: bytes, leaf_hash: bytes,
                 chain_hash: bytes) -> StoredEvent:
    """The event of a record already parsed as ``raw`` (``orjson.loads(record)``): what a
    replay calls once it has looked at the record's type (``app.store.rebuild_replay``)."""
    event_type = raw["type"]
    data = upcast(event_type, raw["schema_version"], raw["data"])
    return StoredEvent(
        position=raw["position"],
        event_id=UUID(raw["event_id"]),
        stream=raw["stream"],
        stream_version=raw["stream_version"],
        type=event_type,
        schema_version=raw["schema_version"],
        data=decode(event_type, data),
        occurred_at=parse_time(raw["occurred_at"]),
        recorded_at=parse_time(raw["recorded_at"]),
        actor=Actor.from_record(raw["actor"]),
        record=record,
        leaf_hash=leaf_hash,
        chain_hash=chain_hash,
        late_entry_reason=raw.get("late_entry_reason"),
        signature=Signature.from_record(raw["signature"]) if "signature" in raw else None,
    )
