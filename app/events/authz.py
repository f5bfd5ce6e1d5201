"""Who may record what: the role matrix and the site scope of a key.

A key has a role and (except the national roles) a site. The role decides which event types
it may record: each event type declares its roles in its slice, and the registry derives
the matrix (``app.events.registry.ROLE_EVENTS``). The site decides for whom: every site
named as the *acting* site in the data must be the key's own, unless the key is an admin's.
Destinations (``to_site_id``, ``fractionator_site_id``) are other sites by nature and are not
scoped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from app.errors import SiteScopeViolation
from app.events.messages import Actor

ADMIN: Final = "admin"

ACTING_SITE_FIELDS: Final = ("site_id", "from_site_id", "lab_site_id")
"""Data fields that name the site doing the step; they must be the key's site."""


ROLES: Final = ("collector", "lab", "processing", "inventory", "hospital", "auditor", ADMIN)
"""Every role a key may have; auditors record nothing."""


def check_site_scope(actor: Actor, data: Mapping[str, object],
                     fields: tuple[str, ...] = ACTING_SITE_FIELDS) -> None:
    """Refuse data naming an acting site other than the key's own (admins act for any)."""
    if actor.role == ADMIN:
        return
    for name in fields:
        site = data.get(name)
        if site is not None and site != actor.site_id:
            raise SiteScopeViolation(
                f"this key acts for site {actor.site_id!r}, not {site!r}", field=f"data.{name}"
            )


def acts_for(actor: Actor, site_id: str | None) -> bool:
    """Whether the actor may act as ``site_id`` (its own site, or any site for an admin)."""
    return actor.role == ADMIN or (site_id is not None and actor.site_id == site_id)
