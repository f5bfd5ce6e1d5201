"""How an event type is declared: once, in the slice module of the life cycle it belongs to.

An ``EventType`` holds everything the service knows about one type: its data model, the roles
that may record it, its decide handler, its evolve step, the state it reads (so the writer can
load it before deciding a batch) and an example for the API documentation. The registry
(``app.events.registry``) gathers the slices' declarations; authorisation, the published JSON
Schemas and the OpenAPI examples are all derived from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from app.errors import DomainError
from app.events import isbt
from app.events.decision import Decision
from app.events.messages import Event, Key
from app.events.payload import EventData, unit_id_of
from app.events.state import State, World, get_unit

D = TypeVar("D", bound=EventData)
Changes = dict[Key, State]
Need = tuple[Key, bool]
"""A key decide will read; True: and its lineage closure (``app.events.lineage``)."""
RawData = Mapping[str, Any]
Reads = Callable[[RawData], Iterable[Need]]


@dataclass(frozen=True, slots=True)
class EventType(Generic[D]):
    """One event type of the catalogue.

    ``decide`` is None for a type only the domain records (a consequence of another event);
    ``roles`` never includes ``admin``, which may record every type that has a ``decide``.
    """

    model: type[D]
    evolve: Callable[[World, Event, D], Changes]
    decide: Callable[[Decision, D], None] | None = None
    roles: frozenset[str] = frozenset()
    reads: Reads = field(default=lambda data: reads_unit(data))
    example: Mapping[str, Any] | None = None
    acting_sites: tuple[str, ...] = ("site_id", "from_site_id", "lab_site_id")
    """Data fields naming the site doing the step: each must be the key's own site."""
    signs: Callable[[World, D], str | None] | None = None
    """What a person's signature of this step means, when the step needs one in this state
    (``app.events.signatures``); None: never signed."""

    @property
    def name(self) -> str:
        return self.model.__name__


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


def quiet(parse: Callable[[Any], str], value: Any) -> str | None:
    """A parsed identifier, or None when the raw value is malformed (decide refuses it)."""
    try:
        return parse(value)
    except DomainError:
        return None


def reads_unit(data: RawData, deep: bool = False) -> list[Need]:
    """The unit named by ``unit_id`` and its donation."""
    unit_id = quiet(isbt.parse_unit_id, data.get("unit_id"))
    if unit_id is None:
        return []
    return [(("unit", unit_id), deep), (("donation", isbt.din_of_unit(unit_id)), False)]


def reads_units(values: Any) -> list[Need]:
    """Each unit of a list of unit ids, and its donation."""
    needs: list[Need] = []
    for value in values if isinstance(values, list) else ():
        needs.extend(reads_unit({"unit_id": value}))
    return needs


def reads_key(kind: str, value: Any, deep: bool = False) -> list[Need]:
    """One aggregate named by a plain id (a donor, a lookback), when the id is a string."""
    return [((kind, value), deep)] if isinstance(value, str) else []


def reads_din(data: RawData, deep: bool = False) -> list[Need]:
    """The donation named by ``din`` (any accepted spelling)."""
    din = quiet(isbt.parse_din, data.get("din"))
    return [] if din is None else [(("donation", din), deep)]


def on_unit(step: Callable[[Any, Event, D], Any]) -> Callable[[World, Event, D], Changes]:
    """An evolve step that changes only the unit named by the event's ``unit_id``."""
    def evolve(world: World, event: Event, data: D) -> Changes:
        unit_id = unit_id_of(data)
        unit = get_unit(world, unit_id) if unit_id is not None else None
        if unit is None:
            return {}
        new = step(unit, event, data)
        return {} if new is unit else {("unit", unit.unit_id): new}

    evolve.__doc__ = step.__doc__
    return evolve


def unchanged(world: World, event: Event, data: EventData) -> Changes:
    """An evolve step for a type that changes no aggregate."""
    return {}
