"""What every read model is made of: a pure fold of events over rows held in memory.

A batch of events is applied in three steps. The projection names the rows it must see
(``loads``, plain data); a runner fetches them into a ``WorkingSet``; ``apply`` folds each
event into the working set, which remembers the rows it changed; the runner writes those back
in one bulk upsert per table. Only the runner touches the database, so the fold is testable
without one and the same code fills live tables or the rebuild's shadow tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from app.events.messages import StoredEvent
from app.events.payload import EventData, unit_id_of
from app.events.slices.collection import DonationCollected
from app.events.slices.processing import UnitsPooled
from app.log.record import parse_time
from app.projections.tables import Row, TableSpec

C = TypeVar("C")


@dataclass(frozen=True, slots=True)
class Load:
    """Fetch the rows of ``table`` whose ``columns`` equal one of ``keys`` (and, if given,
    whose ``open_column`` is NULL). Plain data, so the runner writes the SQL and an in-memory
    fold can apply the same filter."""

    table: TableSpec
    columns: tuple[str, ...]
    keys: tuple[tuple[Any, ...], ...]
    open_column: str | None = None

    def matches(self, row: Row) -> bool:
        """Whether ``row`` is one this load fetches."""
        if self.open_column is not None and row[self.open_column] is not None:
            return False
        return tuple(row[c] for c in self.columns) in set(self.keys)


def load(table: TableSpec, column: str, values: Iterable[Any],
         open_column: str | None = None) -> list[Load]:
    """A load of the rows whose ``column`` is one of ``values`` (none when there are none)."""
    keys = tuple((v,) for v in sorted(set(values)))
    return [Load(table, (column,), keys, open_column)] if keys else []


class WorkingSet:
    """The rows a batch reads and writes, keyed by table name and primary key."""

    def __init__(self, tables: Iterable[TableSpec]) -> None:
        self._specs = {t.name: t for t in tables}
        self._rows: dict[str, dict[tuple[Any, ...], Row]] = {n: {} for n in self._specs}
        self._dirty: dict[str, dict[tuple[Any, ...], None]] = {n: {} for n in self._specs}
        self._indexes: dict[str, dict[str, dict[Any, dict[tuple[Any, ...], None]]]] = {
            n: {} for n in self._specs}
        """table name → column → value → keys of the held rows with that value"""
        self._contexts: dict[type[Any], Any] = {}
        self._pending: list[Callable[[], None]] = []

    def context(self, factory: Callable[[WorkingSet], C]) -> C:
        """One helper object per working set and factory (a projection's view of its rows
        that lives as long as the batch), made on first use."""
        key = factory if isinstance(factory, type) else type(factory)
        if key not in self._contexts:
            self._contexts[key] = factory(self)
        found: C = self._contexts[key]
        return found

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
        index = self._indexes[table.name].get(column)
        if index is None:
            index = {}
            for key, row in self._rows[table.name].items():
                index.setdefault(row[column], {})[key] = None
            self._indexes[table.name][column] = index
        held = self._rows[table.name]
        return [held[k] for k in index.get(value, ())]

    def _index(self, table: TableSpec, key: tuple[Any, ...], old: Row | None, new: Row) -> None:
        for column, index in self._indexes[table.name].items():
            if old is not None:
                index.get(old[column], {}).pop(key, None)
            index.setdefault(new[column], {})[key] = None

    def before_write(self, flush: Callable[[], None]) -> None:
        """Have ``flush`` put the rows it holds back before the first ``changed`` (a
        projection building a row once per batch rather than once per event)."""
        self._pending.append(flush)

    def changed(self, table: TableSpec) -> list[Row]:
        """The rows to write back, in the order they were first changed."""
        while self._pending:
            self._pending.pop(0)()
        held = self._rows[table.name]
        return [held[k] for k in self._dirty[table.name]]


@dataclass(frozen=True, slots=True)
class Subscription:
    """The events a projection's fold reads: those of ``types`` and, when ``late``, every
    event recorded late (``late_entry_reason``) whatever its type. For any other event
    ``loads`` names nothing and ``apply`` changes nothing, so the runner skips it (and a
    rebuild does not even decode it)."""

    types: frozenset[str]
    late: bool = False

    def wants(self, event_type: str, late_entry_reason: str | None) -> bool:
        return event_type in self.types or (self.late and late_entry_reason is not None)

    def of(self, events: Sequence[StoredEvent]) -> Sequence[StoredEvent]:
        """The events of ``events`` this subscription takes, in their order."""
        types, late = self.types, self.late
        return [e for e in events
                if e.type in types or (late and e.late_entry_reason is not None)]

    def __or__(self, other: Subscription) -> Subscription:
        return Subscription(self.types | other.types, self.late or other.late)


def types_of(*models: type[EventData]) -> frozenset[str]:
    """Event type names, from their data models."""
    return frozenset(m.__name__ for m in models)


class Projection(Protocol):
    """One read model: its tables, the events it reads, the rows a batch needs, and its pure
    fold."""

    name: str
    tables: tuple[TableSpec, ...]
    subscription: Subscription

    def loads(self, events: Sequence[StoredEvent]) -> list[Load]:
        """The existing rows the batch will read (rows it only inserts need no load)."""
        ...

    def apply(self, ws: WorkingSet, event: StoredEvent) -> None:
        """Fold one event into the working set. Must not read clocks or ids."""
        ...


def when(value: str | None) -> datetime | None:
    """An RFC 3339 string from event data as a datetime (None stays None)."""
    return None if value is None else parse_time(value)


def unit_ids_in(event: StoredEvent) -> list[str]:
    """Every existing unit an event names in its data (not the units it creates)."""
    data = event.data
    ids: list[str] = []
    unit_id = unit_id_of(data)
    if unit_id is not None and not creates_unit(data):
        ids.append(unit_id)
    parents = data.__dict__.get("parent_unit_ids")
    if isinstance(parents, list):
        ids.extend(parents)
    return ids


def creates_unit(data: EventData) -> bool:
    """Whether ``unit_id`` names the unit the event creates rather than one it acts on."""
    return type(data) is DonationCollected or type(data) is UnitsPooled
