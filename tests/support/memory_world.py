"""``InMemoryWorld``: aggregate states in a dict, for the domain's unit tests."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

from app.events.catalogue import Catalogue, default_catalogue
from app.events.messages import Command, Key, NewEvent, StoredEvent
from app.events.registry import decide, evolve
from app.events.state import State


class InMemoryWorld:
    """A ``World`` that knows every aggregate it was given; unknown keys are absent (None)."""

    def __init__(self, states: dict[Key, State] | None = None) -> None:
        self.states: dict[Key, State] = dict(states or {})
        self.position = 0  # positions given out, as the writer does before folding

    def get(self, key: Key) -> State | None:
        return self.states.get(key)

    def apply(self, events: Iterable[NewEvent | StoredEvent]) -> None:
        """Fold events in order, each seeing the states the ones before it left."""
        for event in events:
            self.states.update(evolve(self, event))

    def execute(self, cmd: Command, catalogue: Catalogue | None = None) -> list[NewEvent]:
        """Decide ``cmd`` and apply its events; a refusal raises and changes nothing."""
        decided = decide(self, cmd, catalogue if catalogue is not None else default_catalogue())
        events = [replace(e, position=self.position + i) for i, e in enumerate(decided, 1)]
        self.apply(events)
        self.position += len(events)
        return events

    def __iter__(self) -> Iterator[Key]:
        return iter(self.states)

    def __len__(self) -> int:
        return len(self.states)
