"""What a site key sees of a view: patient ids only where its site treats the patient, and
of a lookback only its own part.

Patient pseudonyms are fields named ``patient_id``, ``*_patient_id`` or ``*recipient_id``,
wherever they stand (a unit's state, a feed entry's data, a lookback's units, a FHIR
resource built from them): the rule follows the name, so it holds for every event type the
catalogue gains. The treating hospital is the hospital whose own keys recorded a step naming
the patient; the national roles see every id. A redacted id becomes ``null``; a feed entry
that lost anything lists the paths in ``redacted``, since its data no longer hashes to its
``leaf_hash``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.events.messages import Actor
from app.store.api_access import lookback_collectors, treated_patients
from app.store.conn import Conn
from app.store.keys import NATIONAL_ROLES

TREATING_ROLE = "hospital"
_LOOKBACK = "LookbackStarted"


def is_patient_field(name: str) -> bool:
    """Whether a field of that name holds a patient pseudonym."""
    return name == "patient_id" or name.endswith(("_patient_id", "recipient_id"))


def _patient_slots(value: Any, path: str = "") -> Iterator[tuple[dict[str, Any], str, str]]:
    """Every (object, key, path) whose key names a patient and whose value is an id."""
    todo: list[tuple[Any, str]] = [(value, path)]
    while todo:
        item, where = todo.pop()
        if isinstance(item, list):
            todo.extend((x, f"{where}[{i}]") for i, x in enumerate(item))
        elif isinstance(item, dict):
            for key, inner in item.items():
                name = f"{where}.{key}" if where else str(key)
                if is_patient_field(str(key)) and isinstance(inner, str):
                    yield item, key, name
                else:
                    todo.append((inner, name))


async def _treated(con: Conn, actor: Actor, ids: set[str]) -> set[str]:
    if actor.role != TREATING_ROLE or actor.site_id is None or not ids:
        return set()
    return await treated_patients(con, sorted(ids), actor.site_id)


async def hide_patients(con: Conn, actor: Actor, *values: Any) -> list[list[str]]:
    """Blank, in place, every patient id in ``values`` the key may not see (one query for
    all of them); for each value, the paths blanked."""
    if actor.role in NATIONAL_ROLES:
        return [[] for _ in values]
    slots = [list(_patient_slots(value)) for value in values]
    treated = await _treated(con, actor, {item[key] for found in slots for item, key, _ in found})
    hidden: list[list[str]] = []
    for found in slots:
        paths = []
        for item, key, path in found:
            if item[key] not in treated:
                item[key] = None
                paths.append(path)
        hidden.append(sorted(paths))
    return hidden


def lookback_part(actor: Actor, units: list[dict[str, Any]], whole: bool) -> list[dict[str, Any]]:
    """A lookback's units as a key sees them: all for those who may run the lookback, else
    the units its own site holds, held, received or acknowledged."""
    if whole or actor.role in NATIONAL_ROLES:
        return units
    site = actor.site_id
    return [u for u in units if site is not None and site in (
        u.get("custodian_site_id"), u.get("in_transit_to"), u.get("acknowledged_site_id"))]


async def sees_whole_lookback(con: Conn, actor: Actor, started_by: str | None,
                              unit_ids: list[str]) -> bool:
    """National keys, the starting site, and the sites that collected or test the donations
    (who may start such a lookback) see a lookback whole; holders see their part."""
    if actor.role in NATIONAL_ROLES:
        return True
    if actor.site_id is None:
        return False
    if actor.site_id == started_by:
        return True
    return actor.site_id in await lookback_collectors(con, unit_ids)


async def feed_view(con: Conn, actor: Actor, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Feed entries (the change feed, a history, SSE) as ``actor`` may read them."""
    if actor.role in NATIONAL_ROLES:
        return entries
    redacted: list[list[str]] = [[] for _ in entries]
    for entry, paths in zip(entries, redacted, strict=True):
        data = entry.get("data")
        if entry.get("type") != _LOOKBACK or not isinstance(data, dict):
            continue
        units = [u for u in data.get("units") or () if isinstance(u, dict)]
        started_by = (entry.get("actor") or {}).get("site_id")
        whole = await sees_whole_lookback(con, actor, started_by,
                                          [str(u.get("unit_id")) for u in units])
        part = lookback_part(actor, units, whole)
        if len(part) != len(units):
            data["units"] = part
            paths.append("data.units")
    for entry, paths, hidden in zip(entries, redacted, await hide_patients(con, actor, *entries),
                                    strict=True):
        if paths or hidden:
            entry["redacted"] = paths + hidden
    return entries
