"""What one decision works with: the world, the command, the catalogue, and the events so far.

``Decision.emit`` builds each ``NewEvent``: the first carries the command's event id, each
derived one a deterministic ``uuid5(event_id, index)`` and a ``cause_event_id``. The guards
below are the unit checks most commands share, each raising its rule's DomainError.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID, uuid5

from app.errors import (
    FinalFate,
    NotCustodian,
    OutOfOrder,
    SiteKindNotAllowed,
    SiteNotFound,
    UnitConsumed,
    UnitExpired,
    UnitInTransit,
    UnitIssuedError,
    UnitNotFound,
    UnitReservedError,
    UnitReturnedLate,
)
from app.events import isbt
from app.events.authz import acts_for
from app.events.catalogue import Catalogue
from app.events.messages import Command, Key, NewEvent
from app.events.payload import DerivedData, EventData
from app.events.state import SiteState, World, get_site, get_unit
from app.events.unit import UnitState
from app.log.record import format_time


@dataclass(slots=True)
class Decision:
    """The command being decided and the events decided for it so far."""

    world: World
    cmd: Command
    catalogue: Catalogue
    events: list[NewEvent] = field(default_factory=list)

    @property
    def at(self) -> datetime:
        return self.cmd.occurred_at

    def next_event_id(self) -> UUID:
        """The id the next emitted event gets: the command's, then ``uuid5(id, index)``."""
        index = len(self.events)
        return uuid5(self.cmd.event_id, str(index)) if index else self.cmd.event_id

    def emit(self, data: EventData, stream: str, refs: Iterable[Key]) -> NewEvent:
        """Append an event; every one after the first is derived from the command.

        Only the domain sets ``cause_event_id``: it is cleared on the event asked for.
        """
        index = len(self.events)
        if isinstance(data, DerivedData):
            cause = str(self.cmd.event_id) if index else None
            if data.cause_event_id != cause:
                data = data.model_copy(update={"cause_event_id": cause})
        keys = set(refs)
        if self.cmd.actor.site_id is not None:
            keys.add(("site", self.cmd.actor.site_id))
        elif ("unit", stream) in keys and (unit := get_unit(self.world, stream)) is not None:
            # A national key's step on one unit is referred to the sites that hold it (or
            # will receive it), so the holder's feed shows what was done to its unit.
            keys.update(("site", s) for s in (unit.custodian_site_id, unit.in_transit_to) if s)
        event = NewEvent(
            event_id=self.next_event_id(), stream=stream, data=data,
            occurred_at=self.cmd.occurred_at, actor=self.cmd.actor, refs=frozenset(keys),
            late_entry_reason=self.cmd.late_entry_reason,
            signature=None if index else self.cmd.signature,
        )
        self.events.append(event)
        return event

    def site(self, site_id: str, field: str, kinds: Iterable[str] | None = None) -> SiteState:
        """A registered site, optionally of one of ``kinds``."""
        site = get_site(self.world, site_id)
        if site is None:
            raise SiteNotFound(f"site {site_id!r} is not registered", field=field)
        if kinds is not None:
            allowed = tuple(kinds)
            if site.site_kind not in allowed:
                raise SiteKindNotAllowed(
                    f"site {site_id!r} is a {site.site_kind}; this needs {' or '.join(allowed)}",
                    field=field,
                )
        return site

    def unit(self, unit_id: str, field: str = "data.unit_id") -> UnitState:
        """An existing unit."""
        unit = get_unit(self.world, unit_id)
        if unit is None:
            raise UnitNotFound(f"unit {unit_id} does not exist", field=field)
        return unit

    def workable(self, unit_id: str, field: str = "data.unit_id", *,
                 returned_late_ok: bool = False) -> UnitState:
        """A unit this actor may act on now: live, not in transit, held by the actor's site,
        and not returned late (then only discard follows, ``returned_late_ok``)."""
        unit = self.unit(unit_id, field)
        require_live(unit, field)
        if unit.returned_late and not returned_late_ok:
            raise UnitReturnedLate(
                f"unit {unit_id} came back late without a validated cold chain: discard it "
                "as returned_late", field=field)
        if unit.in_transit_to is not None:
            raise UnitInTransit(
                f"unit {unit_id} is in transit to {unit.in_transit_to}", field=field
            )
        if not acts_for(self.cmd.actor, unit.custodian_site_id):
            # The message names no other site: a key learns where a unit is only if it may
            # read it (the edge adds ``custodian_site_id`` for such readers).
            raise NotCustodian(
                f"unit {unit_id} is held by another site, not by this key's",
                field=field, custodian_site_id=unit.custodian_site_id,
            )
        self.in_order(unit.last_at, f"unit {unit_id}")
        return unit

    def in_order(self, last_at: datetime | None, what: str) -> None:
        """Refuse a step dated before the last step that changed ``what``: backdating must
        not reorder a unit's or a donor's life (expiry, return window, intervals)."""
        if last_at is not None and self.at < last_at:
            raise OutOfOrder(
                f"{what} last changed at {format_time(last_at)}; this step is dated "
                f"{format_time(self.at)}", field="occurred_at",
            )

    def in_date(self, unit: UnitState, field: str = "data.unit_id") -> None:
        if unit.expired_at(self.at):
            raise UnitExpired(
                f"unit {unit.unit_id} expired at {unit.expires_at.isoformat()}", field=field
            )


def require_live(unit: UnitState, field: str = "data.unit_id") -> None:
    """Refuse a unit consumed by processing or at a final fate."""
    if unit.fate is not None:
        raise FinalFate(f"unit {unit.unit_id} was {unit.fate}", field=field, fate=unit.fate)
    if unit.consumed:
        raise UnitConsumed(f"unit {unit.unit_id} was consumed by processing", field=field)


def require_unallocated(unit: UnitState, field: str = "data.unit_id") -> None:
    """Refuse a unit reserved or issued for a patient."""
    if unit.issued_patient_id is not None:
        raise UnitIssuedError(f"unit {unit.unit_id} is issued to a patient", field=field)
    if unit.reserved_patient_id is not None:
        raise UnitReservedError(f"unit {unit.unit_id} is reserved for a patient", field=field)


def unit_refs(unit_id: str) -> set[Key]:
    """A unit and its donation."""
    return {("unit", unit_id), ("donation", isbt.din_of_unit(unit_id))}
