"""The writer's view of aggregate state during one batch.

States come from ``write_state`` (loaded on demand) overlaid with the changes made by earlier
commands of the same batch, so each command is decided against the state as updated by the
commands before it. A command's changes are staged and only merged once it is accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import orjson

from app.events.messages import Command, Key, NewEvent, StateNotLoaded, StoredEvent
from app.store.conn import Conn


class World(Protocol):
    def get(self, key: Key) -> Any: ...


class Domain(Protocol):
    """What the writer needs from the pure domain (bound to its catalogue)."""

    def keys_needed(self, cmd: Command) -> Iterable[tuple[Key, bool]]:
        """Keys decide will read; True: also its lineage closure (``lineage_next``)."""
        ...

    def lineage_next(self, key: Key, state: Any) -> set[Key]: ...

    def decide(self, world: World, cmd: Command) -> list[NewEvent]: ...

    def evolve(self, world: World, event: NewEvent | StoredEvent) -> Mapping[Key, Any]: ...

    def dump_state(self, state: Any) -> dict[str, Any]: ...

    def load_state(self, kind: str, body: dict[str, Any]) -> Any: ...


_ABSENT = object()


class BatchWorld:
    """Loaded states + accepted changes + the current command's staged changes."""

    def __init__(self, domain: Domain, table: str = "write_state") -> None:
        self._domain = domain
        self._table = table  # the rebuild replays into a shadow of write_state
        self._loaded: dict[Key, Any] = {}
        self._changed: dict[Key, Any] = {}
        self._staged: dict[Key, Any] = {}

    def get(self, key: Key) -> Any:
        # Staged, then accepted, then loaded: spelt out, since decide asks several per event.
        value = self._staged.get(key, _ABSENT)
        if value is _ABSENT:
            value = self._changed.get(key, _ABSENT)
            if value is _ABSENT:
                value = self._loaded.get(key, _ABSENT)
                if value is _ABSENT:
                    raise StateNotLoaded(key)
        return value

    async def load(self, con: Conn, keys: Iterable[Key]) -> None:
        """Load the keys not yet known, in one query; absent ones are remembered as None."""
        wanted = {k for k in keys if k not in self._loaded and k not in self._changed}
        if not wanted:
            return
        kinds = [k[0] for k in wanted]
        ids = [k[1] for k in wanted]
        rows = await con.fetch(
            f"""SELECT w.kind, w.id, w.body::text AS body
                 FROM {self._table} w
                 JOIN unnest($1::text[], $2::text[]) AS k(kind, id)
                   ON w.kind = k.kind AND w.id = k.id""",
            kinds,
            ids,
        )
        for key in wanted:
            self._loaded[key] = None
        for row in rows:
            body = orjson.loads(row["body"])
            self._loaded[(row["kind"], row["id"])] = self._domain.load_state(row["kind"], body)

    async def load_closure(self, con: Conn, roots: Iterable[Key]) -> None:
        """Load ``roots`` and everything their lineage reaches, one query per level."""
        frontier = set(roots)
        while frontier:
            await self.load(con, frontier)
            reached: set[Key] = set()
            for key in frontier:
                state = self.get(key)
                if state is not None:
                    reached |= self._domain.lineage_next(key, state)
            frontier = {k for k in reached if not self.knows(k)}

    def knows(self, key: Key) -> bool:
        return key in self._loaded or key in self._changed or key in self._staged

    def stage(self, changes: Mapping[Key, Any]) -> None:
        self._staged.update(changes)

    def accept(self) -> None:
        self._changed.update(self._staged)
        self._staged.clear()

    def discard(self) -> None:
        self._staged.clear()

    def changed_rows(self) -> tuple[list[str], list[str], list[str]]:
        """(kinds, ids, json bodies) of every accepted change, for one upsert."""
        kinds, ids, bodies = [], [], []
        for (kind, ident), state in self._changed.items():
            kinds.append(kind)
            ids.append(ident)
            bodies.append(orjson.dumps(self._domain.dump_state(state)).decode())
        return kinds, ids, bodies
