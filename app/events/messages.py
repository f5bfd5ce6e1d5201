"""The messages between the writer and the domain.

A ``Command`` asks to record one event of the catalogue, as the client sent it. ``decide``
turns it into one or more ``NewEvent`` (the event asked for, then any consequences such as
quarantines) or raises a ``DomainError``. The writer gives each ``NewEvent`` its position,
stream version and hashes, which makes it a ``StoredEvent``. Both carry their data as the
event type's validated model: only ``app.store.mapper`` turns models into record bytes and
records back into models.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from app.events.payload import EventData
from app.log.record import canonical_json, format_time, parse_time

JSON = Any
Key = tuple[str, str]
"""An aggregate key: (kind, id). Kinds: site, donor, donation, unit, lookback, patient, account."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: the key id, its role and its site (None for national roles), and for a
    person signed in (``app.api.sessions``) their ``user_id``; a machine's API key has none."""

    key_id: str
    role: str
    site_id: str | None
    user_id: str | None = None

    def as_record(self) -> dict[str, JSON]:
        record: dict[str, JSON] = {"key_id": self.key_id, "role": self.role,
                                   "site_id": self.site_id}
        if self.user_id is not None:  # absent for machines: their records keep v1 bytes
            record["user_id"] = self.user_id
        return record

    @classmethod
    def from_record(cls, raw: Mapping[str, JSON]) -> Actor:
        return cls(key_id=raw["key_id"], role=raw["role"], site_id=raw.get("site_id"),
                   user_id=raw.get("user_id"))

    @classmethod
    def person(cls, user_id: str, role: str, site_id: str | None) -> Actor:
        """A signed-in person: their user id, beside a key id of their own."""
        return cls(key_id=f"user:{user_id}", role=role, site_id=site_id, user_id=user_id)


@dataclass(frozen=True, slots=True)
class Signature:
    """An electronic signature (21 CFR 11.50): who signed, what the signing meant ("release",
    "emergency issue", ...) and when. Only the HTTP edge makes one, after checking the
    person's password (and TOTP) again; nothing of the password is kept."""

    user_id: str
    meaning: str
    signed_at: datetime

    def as_record(self) -> dict[str, JSON]:
        return {"user_id": self.user_id, "meaning": self.meaning,
                "signed_at": format_time(self.signed_at)}

    @classmethod
    def from_record(cls, raw: Mapping[str, JSON]) -> Signature:
        return cls(user_id=raw["user_id"], meaning=raw["meaning"],
                   signed_at=parse_time(raw["signed_at"]))


SYSTEM_ACTOR = Actor(key_id="system", role="admin", site_id=None)


@dataclass(frozen=True, slots=True)
class Command:
    """A request to record one event, as the client sent it.

    ``data`` is raw JSON (already checked to hold no floats); the domain validates and
    normalises it (DINs stored bare, and so on). ``recorded_at`` is the server clock and
    ``event_id`` is the client's or a fresh one, both read by the writer, never by decide.
    """

    type: str
    data: Mapping[str, JSON]
    event_id: UUID
    occurred_at: datetime
    recorded_at: datetime
    actor: Actor
    expected_version: int | None = None
    late_entry_reason: str | None = None
    """Why a step is recorded more than the catalogue's late-entry bound after it happened."""
    signature: Signature | None = None
    """The person's verified signature of this step, when they gave one."""


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A decided event, not yet positioned; ``data`` is its type's model."""

    event_id: UUID
    stream: str
    data: EventData
    occurred_at: datetime
    actor: Actor
    refs: frozenset[Key] = field(default_factory=frozenset)
    schema_version: int = 1
    late_entry_reason: str | None = None
    signature: Signature | None = None
    """Carried by the event asked for, never by the consequences derived from it."""
    position: int = 0
    """Set by the writer before the event is folded, so state can name where a fact stands
    in the log (a result's position, which a release cites); 0 until then."""

    @property
    def type(self) -> str:
        return type(self.data).__name__


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as it stands in the log, its data decoded (and upcast) into its model."""

    position: int
    event_id: UUID
    stream: str
    stream_version: int
    type: str
    schema_version: int
    data: EventData
    occurred_at: datetime
    recorded_at: datetime
    actor: Actor
    record: bytes
    leaf_hash: bytes
    chain_hash: bytes
    late_entry_reason: str | None = None
    signature: Signature | None = None


Event = NewEvent | StoredEvent
"""What ``evolve`` folds: a decided event, or one read back from the log."""


class StateNotLoaded(LookupError):
    """Raised by a ``World`` when decide asks for a key the writer has not loaded yet.

    The writer catches it, loads the key from the database and decides the command again, so
    an event type's ``reads`` are only a prefetch hint: a closure (a donor's donations, a
    unit's descendants) is discovered level by level. Domain code must let it propagate.
    """

    def __init__(self, key: Key) -> None:
        super().__init__(f"state not loaded: {key}")
        self.key = key


def content_hash(cmd: Command, occurred_at_given: bool) -> bytes:
    """What makes two requests with one event_id "the same": type, data and a client time."""
    body = {
        "type": cmd.type,
        "data": cmd.data,
        "occurred_at": format_time(cmd.occurred_at) if occurred_at_given else None,
    }
    if cmd.late_entry_reason is not None:  # absent before v1.1: old digests stay the same
        body["late_entry_reason"] = cmd.late_entry_reason
    return hashlib.sha256(canonical_json(body)).digest()
