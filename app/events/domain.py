"""``LifecycleDomain``: the blood-unit domain bound to a catalogue, as the writer uses it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.events.catalogue import Catalogue
from app.events.lineage import lineage_next
from app.events.messages import Command, Event, Key, NewEvent
from app.events.registry import decide, evolve, keys_needed
from app.events.state import State, World, dump_state, load_state


class LifecycleDomain:
    """The pure domain with its catalogue: what ``app.store.world.Domain`` asks for."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    def keys_needed(self, cmd: Command) -> list[tuple[Key, bool]]:
        """The keys to prefetch, each with its "and its lineage closure" flag."""
        return keys_needed(cmd)

    def lineage_next(self, key: Key, state: State) -> set[Key]:
        return lineage_next(key, state)

    def decide(self, world: World, cmd: Command) -> list[NewEvent]:
        return decide(world, cmd, self.catalogue)

    def evolve(self, world: World, event: Event) -> Mapping[Key, Any]:
        return evolve(world, event)

    def dump_state(self, state: State) -> dict[str, Any]:
        return dump_state(state)

    def load_state(self, kind: str, body: dict[str, Any]) -> State:
        return load_state(kind, body)
