"""What every read model is made of: a pure fold of events over rows held in memory.

A batch of events is applied in three steps. The projection names the rows it must see
(``loads``); a runner fetches them into a ``WorkingSet``; ``apply`` folds each event into the
working set, which remembers the rows it changed; the runner writes those back in one bulk
upsert per table. Only the runner touches the database, so the fold is testable without one
and the same code fills live tables or the rebuild's shadow tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from app.events.messages import StoredEvent
from app.log.record import parse_time
from app.projections.tables import Row, TableSpec


@dataclass(frozen=True, slots=True)
class Load:
    """Fetch the rows of ``table`` matching ``where`` (SQL over ``$1``, ``$2``... = ``args``)."""

    table: TableSpec
    where: str
    args: tuple[Any, ...]


class WorkingSet:
    """The rows a batch reads and writes, keyed by table name and primary key."""

    def __init__(self, tables: Iterable[TableSpec]) -> None:
        self._specs = {t.name: t for t in tables}
        self._rows: dict[str, dict[tuple[Any, ...], Row]] = {n: {} for n in self._specs}
        self._dirty: dict[str, dict[tuple[Any, ...], None]] = {n: {} for n in self._specs}
        self._indexes: dict[tuple[str, str], dict[Any, dict[tuple[Any, ...], None]]] = {}

    def add_loaded(self, table: TableSpec, rows: Iterable[Row]) -> None:
        """Rows fetched from the database; rows changed earlier in the batch win."""
        held = self._rows[table.name]
        for row in rows:
            key = table.key_of(row)
            if key not in held:
                held[key] = row
                self._index(table, key, None, row)

    def get(self, table: TableSpec, *key: Any) -> Row | None:
        return self._rows[table.name].get(key)

    def put(self, table: TableSpec, row: Row) -> None:
        """Insert or replace a row; it is written back at the end of the batch.

        Pass a new dict (``dict(old)`` then change it): the held row is what the secondary
        indexes are kept against.
        """
        key = table.key_of(row)
        held = self._rows[table.name]
        self._index(table, key, held.get(key), row)
        held[key] = row
        self._dirty[table.name][key] = None

    def rows(self, table: TableSpec) -> Iterator[Row]:
        return iter(list(self._rows[table.name].values()))

    def find(self, table: TableSpec, column: str, value: Any) -> list[Row]:
        """The held rows whose ``column`` equals ``value`` (a hash index built on first use)."""
        index = self._indexes.get((table.name, column))
        if index is None:
            index = {}
            for key, row in self._rows[table.name].items():
                index.setdefault(row[column], {})[key] = None
            self._indexes[(table.name, column)] = index
        held = self._rows[table.name]
        return [held[k] for k in index.get(value, ())]

    def _index(self, table: TableSpec, key: tuple[Any, ...], old: Row | None, new: Row) -> None:
        for (name, column), index in self._indexes.items():
            if name != table.name:
                continue
            if old is not None:
                index.get(old[column], {}).pop(key, None)
            index.setdefault(new[column], {})[key] = None

    def changed(self, table: TableSpec) -> list[Row]:
        """The rows to write back, in the order they were first changed."""
        held = self._rows[table.name]
        return [held[k] for k in self._dirty[table.name]]


class Projection(Protocol):
    """One read model: its tables, the rows a batch needs, and its pure fold."""

    name: str
    tables: tuple[TableSpec, ...]

    def loads(self, events: Sequence[StoredEvent]) -> list[Load]:
        """The existing rows the batch will read (rows it only inserts need no load)."""
        ...

    def apply(self, ws: WorkingSet, event: StoredEvent) -> None:
        """Fold one event into the working set. Must not read clocks or ids."""
        ...


def when(value: Any) -> datetime | None:
    """An RFC 3339 string from event data as a datetime (None stays None)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    return parse_time(str(value))


def unit_ids_in(event: StoredEvent) -> list[str]:
    """Every existing unit an event names in its data (not the units it creates)."""
    data = event.data
    ids: list[str] = []
    if isinstance(data.get("unit_id"), str) and event.type not in ("DonationCollected",
                                                                    "UnitsPooled"):
        ids.append(data["unit_id"])
    parents = data.get("parent_unit_ids")
    if isinstance(parents, list):
        ids.extend(str(p) for p in parents)
    return ids
