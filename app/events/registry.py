"""The registry of event types, gathered from the slices, and the domain's entry points.

``decide`` turns a command into the events to record (the asked-for one first, then its
consequences) or raises a DomainError; ``evolve`` folds one event into the aggregates it
changes; ``keys_needed`` names the state a command reads, so the writer can load it in one
query per batch before deciding. Each is a look-up in ``REGISTRY``: nothing here knows any
event type by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from pydantic import ValidationError

from app.errors import (
    InvalidEventData,
    LateEntryReasonRequired,
    OccurredInFuture,
    RoleNotAllowed,
    UnknownEventType,
)
from app.events.authz import ADMIN, ROLES, check_site_scope
from app.events.catalogue import Catalogue
from app.events.decision import Decision
from app.events.event_type import Changes, EventType, Need, RawData, reads_key
from app.events.messages import Actor, Command, Event, NewEvent
from app.events.payload import STORED, EventData, construct
from app.events.signatures import check_signature
from app.events.slices import (
    accounts,
    collection,
    custody,
    disposal,
    donors,
    holds,
    issue,
    lookback,
    patients,
    processing,
    sites,
    testing,
    transfusion,
)
from app.events.state import DonorState, State, World, updated
from app.events.unit import UnitState
from app.log.record import format_time

SLICES: Final = (
    sites, donors, collection, processing, testing, holds, custody, patients, issue,
    transfusion,
    disposal, lookback, accounts,
)
REGISTRY: Final[Mapping[str, EventType[Any]]] = {
    t.name: t for slice_ in SLICES for t in slice_.TYPES
}
"""Every event type of the catalogue, by name, in life-cycle order."""

ROLE_EVENTS: Final[Mapping[str, frozenset[str]]] = {
    role: frozenset(
        t.name for t in REGISTRY.values()
        if t.decide is not None and (role == ADMIN or role in t.roles))
    for role in ROLES
}
"""Role → the event types it may record: read off the declarations. Admins may record every
type a client may ask for; auditors record nothing."""

SITE_FIELDS: Final = ("site_id", "to_site_id", "lab_site_id", "fractionator_site_id",
                      "collection_site_id")
"""Data fields naming a site; decide reads each one's registration."""


def event_type(name: str) -> EventType[Any]:
    """The declaration of ``name``; a 422 when there is no such type."""
    declared = REGISTRY.get(name)
    if declared is None:
        raise UnknownEventType(f"unknown event type {name!r}", field="type")
    return declared


def validate(name: str, data: Mapping[str, Any]) -> EventData:
    """The command's data as its event's model; a 422 naming the first wrong field."""
    model = event_type(name).model
    try:
        validated: EventData = model.model_validate(data)
        return validated
    except ValidationError as err:
        raise InvalidEventData.from_validation(err.errors(), prefix=("data",)) from None


def decode(name: str, data: Mapping[str, Any]) -> EventData:
    """Data read back from a record (already in its stored spelling) as its model, without
    validating it again (``payload.construct``)."""
    decoded: EventData = construct(event_type(name).model, data)
    return decoded


def decode_checked(name: str, data: Mapping[str, Any]) -> EventData:
    """The same, through every validator (in their stored-spelling mode): what a test
    compares ``decode`` with, record for record."""
    decoded: EventData = event_type(name).model.model_validate(data, context=STORED)
    return decoded


def check_role(actor: Actor, name: str) -> None:
    """Refuse an event type the actor's role may not record."""
    if name not in ROLE_EVENTS.get(actor.role, frozenset()):
        raise RoleNotAllowed(f"role {actor.role!r} may not record {name}", field="type",
                             role=actor.role)


def check_clock(cmd: Command, catalogue: Catalogue) -> None:
    """A step is dated by the client, within bounds of the server clock (RULES §1): at most
    the allowed skew after it, and no earlier than the late-entry bound unless the envelope
    says why (``late_entry_reason``, listed in the audit)."""
    if cmd.occurred_at > cmd.recorded_at + catalogue.future_skew:
        raise OccurredInFuture(
            f"occurred_at {format_time(cmd.occurred_at)} is after the server clock "
            f"{format_time(cmd.recorded_at)}", field="occurred_at")
    if cmd.occurred_at < cmd.recorded_at - catalogue.late_entry and not cmd.late_entry_reason:
        raise LateEntryReasonRequired(
            f"occurred_at {format_time(cmd.occurred_at)} is more than "
            f"{catalogue.late_entry_hours} h before the server clock; give late_entry_reason",
            field="late_entry_reason")


def decide(world: World, cmd: Command, catalogue: Catalogue) -> list[NewEvent]:
    """The events ``cmd`` records (asked-for first, then derived), or a DomainError."""
    declared = event_type(cmd.type)
    if declared.decide is None:
        raise UnknownEventType(f"{cmd.type} is recorded by the domain only", field="type")
    check_role(cmd.actor, cmd.type)
    check_clock(cmd, catalogue)
    data = validate(cmd.type, cmd.data)
    check_site_scope(cmd.actor, data.__dict__, declared.acting_sites)
    check_signature(cmd, declared.signs(world, data) if declared.signs is not None else None)
    decision = Decision(world, cmd, catalogue)
    declared.decide(decision, data)
    return decision.events


def evolve(world: World, event: Event) -> Changes:
    """The states ``event`` changes, keyed by aggregate; ``{}`` when it changes none."""
    declared = REGISTRY.get(event.type)
    if declared is None:
        return {}
    changes = declared.evolve(world, event, event.data)
    return {key: _stamped(state, event.occurred_at) for key, state in changes.items()}


def _stamped(state: State, at: datetime) -> State:
    """A changed unit or donor remembers when it last changed (``Decision.in_order``)."""
    # ``type() is``, not ``isinstance``: pydantic's metaclass makes isinstance an ABC check,
    # which a rebuild would pay twice for every state of every event.
    if (type(state) is UnitState or type(state) is DonorState) and (
            state.last_at is None or state.last_at < at):
        return updated(state, {"last_at": at})
    return state


def keys_needed(cmd: Command) -> list[Need]:
    """The aggregates ``decide`` reads for ``cmd``; True means "and its lineage closure".

    Worked out from the raw data without validating it: a malformed field simply names no
    key, and decide then refuses the command.
    """
    declared = REGISTRY.get(cmd.type)
    if declared is None:
        return []
    data: RawData = cmd.data
    needs = [need for name in SITE_FIELDS for need in reads_key("site", data.get(name))]
    needs.extend(declared.reads(data))
    return needs
