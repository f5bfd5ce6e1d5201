"""Who may read what over HTTP. Who may *record* what is the domain's matrix
(``app.events.authz``), enforced inside ``decide``; this module only reuses it for early
refusals and adds the read scope.

Read scope:
- **auditor** and **admin** (the national roles) read everything: the whole change feed, every
  unit, donation, patient, lookback and the audit views.
- A **site key** (collector, lab, processing, inventory, hospital) reads what its site touched:
  a unit its site acted on or was named in (collected, processed, stored, shipped, received,
  issued, transfused, discarded, acknowledged) or whose donation its site tested, with the
  history, provenance (lineage included) and FHIR views of such a unit; a donation its site
  touched, listing only the components the key may read; the stock of its own site; the
  patient actions its own site recorded; a lookback its site started or that found a unit its
  site holds or held. Its change feed is the events that concern its site (positions are then
  not contiguous).
- The audit views (``/v1/audit/events``, custody gaps, unfated units, discards) are for the
  national roles. ``/v1/audit/verify`` and ``/v1/schemas`` are open to every key.

Writes: auditors record nothing (refused at the edge before the body is read); every other
refusal of a role or site comes from the domain with its own rule.
"""

from __future__ import annotations

from typing import Any

from app.errors import Forbidden, RoleNotAllowed, SiteScopeViolation
from app.events.authz import ADMIN
from app.events.messages import Actor
from app.events.registry import ROLE_EVENTS
from app.store.api_access import site_touches, site_touches_unit, touched_units
from app.store.conn import Conn
from app.store.keys import NATIONAL_ROLES


def reads_everything(actor: Actor) -> bool:
    """National roles read the whole network."""
    return actor.role in NATIONAL_ROLES


def may_record(actor: Actor) -> bool:
    """Whether the key's role may record any event type at all (auditors may not)."""
    return actor.role == ADMIN or bool(ROLE_EVENTS.get(actor.role))


def require_recorder(actor: Actor) -> None:
    """Refuse a key whose role records nothing."""
    if not may_record(actor):
        raise RoleNotAllowed(f"role {actor.role!r} is read-only", role=actor.role)


def require_national(actor: Actor, what: str) -> None:
    """Refuse a site key on a national view."""
    if not reads_everything(actor):
        raise Forbidden(f"{what} is for auditor and admin keys", role=actor.role)


def require_admin(actor: Actor) -> None:
    if actor.role != ADMIN:
        raise Forbidden("only an admin key may do this", role=actor.role)


def _out_of_scope(actor: Actor, what: str) -> SiteScopeViolation:
    return SiteScopeViolation(f"site {actor.site_id!r} has no part in {what}")


async def require_unit(con: Conn, actor: Actor, unit_id: str, din: str) -> None:
    """Refuse a site key that never touched the unit (nor tested its donation)."""
    if reads_everything(actor):
        return
    if actor.site_id is None or not await site_touches_unit(con, unit_id, din, actor.site_id):
        raise _out_of_scope(actor, f"unit {unit_id}")


async def require_donation(con: Conn, actor: Actor, din: str) -> None:
    """Refuse a site key that never touched the donation or one of its components."""
    if reads_everything(actor):
        return
    if actor.site_id is None or not await site_touches(con, "donation", din, actor.site_id):
        raise _out_of_scope(actor, f"donation {din}")


async def readable_units(con: Conn, actor: Actor, unit_ids: list[str]) -> list[str]:
    """Those of ``unit_ids`` the key may read, in their order."""
    if reads_everything(actor):
        return unit_ids
    if actor.site_id is None:
        return []
    allowed = await touched_units(con, unit_ids, actor.site_id)
    return [u for u in unit_ids if u in allowed]


def stock_site(actor: Actor, site: str | None) -> str | None:
    """The site whose stock a key may read: any for national roles, else its own."""
    if reads_everything(actor):
        return site
    if site is not None and site != actor.site_id:
        raise SiteScopeViolation(
            f"this key reads the stock of {actor.site_id!r} only", field="site")
    return actor.site_id


def require_lookback(actor: Actor, lookback: dict[str, Any]) -> None:
    """A lookback is readable by its starting site and by every site holding a unit it found."""
    if reads_everything(actor):
        return
    site = actor.site_id
    if site is not None and (lookback.get("site_id") == site or any(
        site in (u.get("custodian_site_id"), u.get("acknowledged_site_id"))
        for u in lookback.get("units", ())
    )):
        return
    raise _out_of_scope(actor, f"lookback {lookback.get('lookback_id')}")


def patient_view(actor: Actor, units: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A patient's units as a key may see them: all for national roles, else only the actions
    the key's own site recorded (and the units those concern)."""
    if reads_everything(actor):
        return units
    if actor.role != "hospital":
        raise Forbidden("patient records are for hospital, auditor and admin keys",
                        role=actor.role)
    seen = []
    for unit in units:
        actions = [a for a in unit["actions"] if a["site_id"] == actor.site_id]
        if actions:
            seen.append(unit | {"actions": actions,
                                "received": any(a["action"] == "transfused" for a in actions)})
    return seen
