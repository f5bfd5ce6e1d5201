"""The pure append step: decided events → log rows, leaf and chain hashes, Merkle nodes.

``LogTail`` starts from the head the writer locked (position, chain hash, compact range) and
gives each event its position, stream version, canonical record and hashes. It touches no
database, so the hashing can be tested, and compared with the verifiers, on its own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.events.messages import NewEvent, StoredEvent
from app.log.merkle import CompactRange
from app.log.record import canonical_json, chain_hash, leaf_hash
from app.store.mapper import event_body, record_of

EventRow = tuple[Any, ...]
"""One ``events`` row, in ``EVENT_COLUMNS`` order."""

EVENT_COLUMNS = (
    "position", "event_id", "stream", "stream_version", "type", "schema_version", "record",
    "leaf_hash", "chain_hash", "content_hash", "occurred_at", "recorded_at", "actor_key",
    "actor_role", "actor_site", "actor_user",
)


def derived_content_hash(event_type: str, body: dict[str, Any]) -> bytes:
    """The idempotency digest of an event the domain derived (no client sent it)."""
    return hashlib.sha256(canonical_json({"type": event_type, "data": body})).digest()


@dataclass(slots=True)
class LogTail:
    """The end of the log as the batch extends it; ``versions`` holds each stream's last."""

    position: int
    chain: bytes
    tree: CompactRange
    versions: dict[str, int]
    stored: list[StoredEvent] = field(default_factory=list)
    rows: list[EventRow] = field(default_factory=list)
    refs: list[tuple[str, str, int]] = field(default_factory=list)
    nodes: list[tuple[int, int, bytes]] = field(default_factory=list)

    def append(self, event: NewEvent, recorded_at: datetime,
               digest: bytes | None = None) -> StoredEvent:
        """Position, record and hash ``event``; ``digest`` is the client's content hash."""
        self.position += 1
        if event.position not in (0, self.position):
            raise RuntimeError(f"event decided for position {event.position} lands at "
                               f"{self.position}")
        position, stream, actor = self.position, event.stream, event.actor
        version = self.versions[stream] + 1
        self.versions[stream] = version
        body = event_body(event)
        record = record_of(event, body, position, version, recorded_at)
        leaf = leaf_hash(record)
        chain = self.chain = chain_hash(self.chain, leaf)
        self.nodes.extend(self.tree.append(leaf))
        event_type = event.type
        stored = StoredEvent(
            position=position, event_id=event.event_id, stream=stream, stream_version=version,
            type=event_type, schema_version=event.schema_version, data=event.data,
            occurred_at=event.occurred_at, recorded_at=recorded_at, actor=actor, record=record,
            leaf_hash=leaf, chain_hash=chain, late_entry_reason=event.late_entry_reason,
            signature=event.signature,
        )
        self.stored.append(stored)
        self.rows.append((
            position, event.event_id, stream, version, event_type, event.schema_version,
            record, leaf, chain,
            digest if digest is not None else derived_content_hash(event_type, body),
            event.occurred_at, recorded_at, actor.key_id, actor.role, actor.site_id,
            actor.user_id,
        ))
        if event.refs:
            self.refs.extend([(kind, ref, position) for kind, ref in sorted(event.refs)])
        return stored
