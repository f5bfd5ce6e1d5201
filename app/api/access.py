"""Who may read what over HTTP. Who may *record* what is the domain's matrix
(``app.events.authz``), enforced inside ``decide``; this module only reuses it for early
refusals and adds the read scope.

Read scope:
- **auditor** and **admin** (the national roles) read everything: the whole change feed, every
  unit, donation, patient, lookback and the audit views.
- A **site key** (collector, lab, processing, inventory, hospital) reads what its site touched:
  a unit its site acted on or was named in (collected, processed, stored, shipped, received,
  issued, transfused, discarded, acknowledged, quarantined while it held it) or whose donation
  its site collected or tests (the lab serving the collection site, ``LabServiceAgreed``, or
  sent its samples, ``SamplesDispatched``), with the history, provenance (lineage included)
  and FHIR views of such a unit; a donation it touched, collected or tests, listing only the
  components the key may read; the stock of its own site; the patient actions its own site
  recorded; a lookback whole when its site started it or may start it (collected or tests
  its donations), else the part its site holds or held. Its change feed is the events that
  concern its site (positions are then not contiguous), lookbacks cut to its part.
- **Patient ids** are seen by the national roles and by the hospital that treats the patient
  (its keys recorded a step naming the patient), in every view: ``app.api.redact``.
- A site key is refused the same way whether a unit, donation or lookback it may not read
  exists or not (403): refusals tell nothing of other sites' stock.
- The audit views (``/v1/audit/events``, custody gaps, unfated units, discards) are for the
  national roles. The transfusion-safety views (``/v1/audit/haemovigilance``, ``emergency``,
  ``overrides``) are open to site keys too, cut to the rows their own site recorded; FHIR
  ``AdverseEvent`` follows the read scope of its unit. ``/v1/audit/verify`` and
  ``/v1/schemas`` are open to every key.

Writes: auditors record nothing (refused at the edge before the body is read); every other
refusal of a role or site comes from the domain with its own rule.
"""

from __future__ import annotations

from typing import Any

from app.api.redact import hide_patients, lookback_part, sees_whole_lookback
from app.errors import (
    DonationNotFound,
    Forbidden,
    LookbackNotFound,
    RoleNotAllowed,
    SiteScopeViolation,
    UnitNotFound,
)
from app.events.authz import ADMIN
from app.events.messages import Actor
from app.events.registry import ROLE_EVENTS
from app.store.api_access import (
    donation_exists,
    lookback_destinations,
    site_touches_donation,
    site_touches_unit,
    touched_donations,
    touched_units,
    unit_exists,
)
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


def own_site_scope(actor: Actor, what: str) -> str | None:
    """The site whose rows a key reads of a view open to site keys: None (the whole country)
    for national roles, else the key's own site; a site role without a site reads nothing."""
    if reads_everything(actor):
        return None
    if actor.site_id is None:
        raise Forbidden(f"{what} is for national keys and site keys", role=actor.role)
    return actor.site_id


def require_admin(actor: Actor) -> None:
    if actor.role != ADMIN:
        raise Forbidden("only an admin key may do this", role=actor.role)


def out_of_scope(actor: Actor, what: str) -> SiteScopeViolation:
    return SiteScopeViolation(f"{what} is not within the read scope of site {actor.site_id!r}")


async def require_unit(con: Conn, actor: Actor, unit_id: str, din: str) -> None:
    """Refuse a key that may not read the unit: a national key when it does not exist (404),
    a site key when it neither touched it nor collects or tests its donation (403, the same
    whether or not the unit exists, so a refusal tells nothing of other sites' units)."""
    if reads_everything(actor):
        if not await unit_exists(con, unit_id):
            raise UnitNotFound(f"unit {unit_id} does not exist", field="unit_id")
        return
    if actor.site_id is None or not await site_touches_unit(con, unit_id, din, actor.site_id):
        raise out_of_scope(actor, f"unit {unit_id}")
    if not await unit_exists(con, unit_id):
        raise UnitNotFound(f"unit {unit_id} does not exist", field="unit_id")


async def may_read_unit(con: Conn, actor: Actor, unit_id: str) -> bool:
    """Whether ``actor`` may read the unit (an unknown unit reads as not readable)."""
    if reads_everything(actor):
        return True
    return actor.site_id is not None and await site_touches_unit(
        con, unit_id, unit_id.split("-", 1)[0], actor.site_id)


async def may_read_donation(con: Conn, actor: Actor, din: str) -> bool:
    """Whether ``actor`` may read the donation: it touched, collected or tests it."""
    if reads_everything(actor):
        return True
    return actor.site_id is not None and await site_touches_donation(con, din, actor.site_id)


async def require_donation(con: Conn, actor: Actor, din: str) -> None:
    """As ``require_unit``, for a donation (by bare DIN)."""
    if not await may_read_donation(con, actor, din):
        raise out_of_scope(actor, f"donation {din}")
    if not await donation_exists(con, din):
        raise DonationNotFound(f"no donation with DIN {din}", field="din")


async def readable_units(con: Conn, actor: Actor, unit_ids: list[str]) -> list[str]:
    """Those of ``unit_ids`` the key may read, in their order."""
    if reads_everything(actor):
        return unit_ids
    if actor.site_id is None:
        return []
    allowed = await touched_units(con, unit_ids, actor.site_id)
    return [u for u in unit_ids if u in allowed]


async def readable_donations(con: Conn, actor: Actor, dins: list[str]) -> set[str]:
    """Those of ``dins`` the key may read (``may_read_donation`` for many)."""
    if reads_everything(actor):
        return set(dins)
    if actor.site_id is None:
        return set()
    return await touched_donations(con, dins, actor.site_id)


def stock_site(actor: Actor, site: str | None) -> str | None:
    """The site whose stock a key may read: any for national roles, else its own."""
    if reads_everything(actor):
        return site
    if site is not None and site != actor.site_id:
        raise SiteScopeViolation(
            f"this key reads the stock of {actor.site_id!r} only", field="site")
    return actor.site_id


async def lookback_view(con: Conn, actor: Actor, lookback: dict[str, Any] | None,
                        lookback_id: str) -> dict[str, Any]:
    """A lookback as the key may see it: whole (patient ids aside) for national keys, the
    starting site and those who may start it (the collecting site and its labs); only the
    units it holds, held, was being sent or acknowledged for any other site that has some;
    else a 403 for site keys (whether or not it exists) and a 404 for national keys."""
    if lookback is None:
        if reads_everything(actor):
            raise LookbackNotFound(f"lookback {lookback_id} does not exist",
                                   field="lookback_id")
        raise out_of_scope(actor, f"lookback {lookback_id}")
    units = lookback["units"]
    whole = await sees_whole_lookback(con, actor, lookback.get("site_id"),
                                      [u["unit_id"] for u in units])
    part = units
    if not whole:
        sent = await lookback_destinations(con, lookback_id)
        mine = {u["unit_id"] for u in lookback_part(actor, [
            u | {"in_transit_to": sent.get(u["unit_id"])} for u in units], whole)}
        part = [u for u in units if u["unit_id"] in mine]
    if not whole and not part:
        raise out_of_scope(actor, f"lookback {lookback_id}")
    shown = {u["unit_id"] for u in part}
    view = lookback | {
        "units": part,
        "open_items": [u for u in lookback["open_items"] if u in shown],
        "recipients_to_notify": [u for u in lookback.get("recipients_to_notify", ())
                                 if u in shown]}
    await hide_patients(con, actor, view)
    return view


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
