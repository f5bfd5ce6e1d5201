"""Donors: pseudonymous registration, deferral and reinstatement.

Names and national ids never enter the log: a donor is known by a pseudonym only.
"""

from __future__ import annotations

from app.errors import AlreadyExists, DonorNotDeferred, DonorNotFound
from app.events.decision import Decision
from app.events.event_type import Changes, EventType, RawData, reads_key, roles
from app.events.fields import AboGroup, Pseudonym, RhdType, Text, Timestamp
from app.events.messages import Event
from app.events.payload import DerivedData, EventData
from app.events.state import DonorState, World, get_donor
from app.log.record import parse_time


class DonorRegistered(EventData):
    """A donor, known only by a pseudonym; names and national ids never enter the log."""

    donor_id: Pseudonym
    abo: AboGroup | None = None
    rhd: RhdType | None = None


class DonorDeferred(DerivedData):
    """``until`` absent means a permanent deferral."""

    donor_id: Pseudonym
    reason: Text
    until: Timestamp | None = None


class DonorReinstated(EventData):
    """A deferred donor may give again; ``until`` is ignored."""

    donor_id: Pseudonym
    reason: Text
    until: Timestamp | None = None


def registered_donor(d: Decision, donor_id: str) -> DonorState:
    """The donor, who must be registered."""
    donor = get_donor(d.world, donor_id)
    if donor is None:
        raise DonorNotFound(f"donor {donor_id} is not registered", field="data.donor_id")
    return donor


def donor_registered(d: Decision, data: DonorRegistered) -> None:
    """A new pseudonymous donor."""
    if get_donor(d.world, data.donor_id) is not None:
        raise AlreadyExists(f"donor {data.donor_id} is already registered",
                            field="data.donor_id")
    d.emit(data, f"donor:{data.donor_id}", {("donor", data.donor_id)})


def donor_deferred(d: Decision, data: DonorDeferred) -> None:
    """Defer a registered donor until a date, or permanently."""
    registered_donor(d, data.donor_id)
    d.emit(data, f"donor:{data.donor_id}", {("donor", data.donor_id)})


def donor_reinstated(d: Decision, data: DonorReinstated) -> None:
    """End the deferral of a donor who is deferred now."""
    donor = registered_donor(d, data.donor_id)
    if not donor.deferred_at(d.at):
        raise DonorNotDeferred(f"donor {data.donor_id} is not deferred", field="data.donor_id")
    d.emit(data, f"donor:{data.donor_id}", {("donor", data.donor_id)})


def _registered(world: World, e: Event, data: DonorRegistered) -> Changes:
    return {("donor", data.donor_id): DonorState(
        donor_id=data.donor_id, abo=data.abo, rhd=data.rhd)}


def _deferred(world: World, e: Event, data: DonorDeferred) -> Changes:
    donor = get_donor(world, data.donor_id)
    if donor is None:
        return {}
    return {("donor", donor.donor_id): donor.model_copy(update={
        "deferred": True, "deferral_reason": data.reason,
        "deferred_until": parse_time(data.until) if data.until else None,
    })}


def _reinstated(world: World, e: Event, data: DonorReinstated) -> Changes:
    donor = get_donor(world, data.donor_id)
    if donor is None:
        return {}
    return {("donor", donor.donor_id): donor.model_copy(update={
        "deferred": False, "deferred_until": None, "deferral_reason": None})}


def _reads_donor(data: RawData) -> list[tuple[tuple[str, str], bool]]:
    return reads_key("donor", data.get("donor_id"))


TYPES = (
    EventType(DonorRegistered, _registered, donor_registered, roles("collector", "processing"),
              _reads_donor, {"donor_id": "DNR-7QX2K9", "abo": "O", "rhd": "NEG"}),
    EventType(DonorDeferred, _deferred, donor_deferred, roles("collector", "processing"),
              _reads_donor, {"donor_id": "DNR-7QX2K9", "reason": "low haemoglobin",
                             "until": "2026-12-20"}),
    EventType(DonorReinstated, _reinstated, donor_reinstated, roles("processing"),
              _reads_donor, {"donor_id": "DNR-7QX2K9", "reason": "deferral period reviewed"}),
)
