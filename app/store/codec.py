"""The only place log rows become ``StoredEvent`` and feed entries (and back).

Old schema versions would be upcast here; v1 is the only one so far.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson

from app.events.messages import Actor, StoredEvent
from app.log.encoding import b64
from app.log.record import parse_time

FEED_COLUMNS = "position, record, leaf_hash, chain_hash"


def stored_event_from_row(row: Any) -> StoredEvent:
    """Decode a row holding at least ``record``, ``leaf_hash`` and ``chain_hash``."""
    record: bytes = row["record"]
    raw = orjson.loads(record)
    return StoredEvent(
        position=raw["position"],
        event_id=UUID(raw["event_id"]),
        stream=raw["stream"],
        stream_version=raw["stream_version"],
        type=raw["type"],
        schema_version=raw["schema_version"],
        data=raw["data"],
        occurred_at=parse_time(raw["occurred_at"]),
        recorded_at=parse_time(raw["recorded_at"]),
        actor=Actor.from_record(raw["actor"]),
        record=record,
        leaf_hash=row["leaf_hash"],
        chain_hash=row["chain_hash"],
    )


def feed_entry(row: Any) -> dict[str, Any]:
    """A feed entry (``/v1/events``, history, SSE): the record's fields plus its hashes.

    Built from the stored bytes, so the entry says exactly what was hashed.
    """
    entry: dict[str, Any] = orjson.loads(row["record"])
    entry["leaf_hash"] = b64(row["leaf_hash"])
    entry["chain_hash"] = b64(row["chain_hash"])
    return entry
