"""A deliberately tiny domain for testing the log machinery (chain, batching, concurrency,
idempotency) apart from the blood-unit rules. It stands in for the domain, never for
PostgreSQL: every test that uses it writes to a real database.

``NoteRecorded {subject, text}`` appends to stream ``note:{subject}``; a text of "refuse" is
refused with a RuleViolation, so tests can mix rejections into batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from app.errors import RuleViolation, UnknownEventType
from app.events.messages import Command, Key, NewEvent
from app.events.payload import EventData
from app.store.world import World


class NoteRecorded(EventData):
    """A note about a subject."""

    subject: str
    text: str


class NoteRefused(RuleViolation):
    rule = "note-refused"
    title = "This note is refused"


class LedgerDomain:
    def keys_needed(self, cmd: Command) -> Iterable[tuple[Key, bool]]:
        subject = cmd.data.get("subject")
        return [(("subject", str(subject)), False)] if subject is not None else []

    def lineage_next(self, key: Key, state: Any) -> set[Key]:
        return set()

    def decide(self, world: World, cmd: Command) -> list[NewEvent]:
        if cmd.type != "NoteRecorded":
            raise UnknownEventType(f"unknown event type {cmd.type}", field="type")
        subject = str(cmd.data.get("subject", ""))
        if cmd.data.get("text") == "refuse":
            raise NoteRefused("the note says refuse", field="data.text")
        world.get(("subject", subject))
        return [NewEvent(
            event_id=cmd.event_id, stream=f"note:{subject}",
            data=NoteRecorded(subject=subject, text=str(cmd.data.get("text", ""))),
            occurred_at=cmd.occurred_at, actor=cmd.actor,
            refs=frozenset({("subject", subject)}),
        )]

    def evolve(self, world: World, event: NewEvent) -> Mapping[Key, Any]:
        assert isinstance(event.data, NoteRecorded)
        key = ("subject", event.data.subject)
        count = (world.get(key) or {"notes": 0})["notes"]
        return {key: {"notes": count + 1}}

    def dump_state(self, state: Any) -> dict[str, Any]:
        return dict(state)

    def load_state(self, kind: str, body: dict[str, Any]) -> Any:
        return body
