"""Who may record what: the role matrix and the site scope of a key, as data.

A key has a role and (except the national roles) a site. The role decides which event types
it may record; the site decides for whom: every site named as the *acting* site in the data
must be the key's own, unless the key is an admin's. Destinations (``to_site_id``,
``fractionator_site_id``) are other sites by nature and are not scoped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from app.errors import RoleNotAllowed, SiteScopeViolation
from app.events.messages import Actor

ADMIN: Final = "admin"

# What every site that holds units does to them; lifting a quarantine stays possible for
# the holder because a reactive donation blocks it whoever asks.
_UNIT_CARE: Final = frozenset({
    "UnitStored", "TemperatureExcursionRecorded", "UnitShipped", "UnitReceived",
    "UnitQuarantined", "QuarantineLifted", "UnitDiscarded",
})

ROLE_EVENTS: Final[Mapping[str, frozenset[str]]] = {
    "collector": frozenset({
        "DonorRegistered", "DonorDeferred", "DonationCollected", "UnitStored",
        "TemperatureExcursionRecorded", "UnitShipped", "UnitQuarantined", "UnitDiscarded",
    }),
    "lab": frozenset({"TestResultRecorded", "LookbackStarted"}),
    "processing": _UNIT_CARE | {
        "DonorRegistered", "DonorDeferred", "DonorReinstated", "UnitSplit", "UnitsPooled",
        "UnitReleased", "UnitShippedForFractionation", "LookbackStarted",
        "LookbackAcknowledged",
    },
    "inventory": _UNIT_CARE | {
        "UnitShippedForFractionation", "ReservationReleased", "LookbackAcknowledged",
    },
    "hospital": _UNIT_CARE | {
        "UnitReserved", "ReservationReleased", "UnitIssued", "UnitReturned", "UnitTransfused",
        "AdverseReactionReported", "LookbackAcknowledged",
    },
    "auditor": frozenset(),
}
"""Role → the event types it may record. ``admin`` may record every type."""

ACTING_SITE_FIELDS: Final = ("site_id", "from_site_id", "lab_site_id")
"""Data fields that name the site doing the step; they must be the key's site."""


def check_role(actor: Actor, event_type: str) -> None:
    """Refuse an event type the actor's role may not record."""
    if actor.role == ADMIN:
        return
    if event_type not in ROLE_EVENTS.get(actor.role, frozenset()):
        raise RoleNotAllowed(
            f"role {actor.role!r} may not record {event_type}", field="type",
            role=actor.role,
        )


def check_site_scope(actor: Actor, data: Mapping[str, object]) -> None:
    """Refuse data naming an acting site other than the key's own (admins act for any)."""
    if actor.role == ADMIN:
        return
    for name in ACTING_SITE_FIELDS:
        site = data.get(name)
        if site is not None and site != actor.site_id:
            raise SiteScopeViolation(
                f"this key acts for site {actor.site_id!r}, not {site!r}", field=f"data.{name}"
            )


def acts_for(actor: Actor, site_id: str | None) -> bool:
    """Whether the actor may act as ``site_id`` (its own site, or any site for an admin)."""
    return actor.role == ADMIN or (site_id is not None and actor.site_id == site_id)
