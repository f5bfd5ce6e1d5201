"""Queries behind the HTTP edge's read scope: does a site touch a unit, a donation, a feed?

A site "touches" something when an event that concerns it also concerns the site: the site
acted on it (every event a site key records names the key's site) or was named in it (the
destination of a shipment, the holder of a unit a rule quarantined). Both sides are
``event_refs`` primary-key look-ups, so a check costs a few index probes whatever the size of
the log. Beside that, a donation is read by the sites that collected or test it (the lab
relation of ``LabServiceAgreed`` and ``SamplesDispatched``), and a patient's id by the sites
that treat the patient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from app.store.codec import FEED_COLUMNS, feed_entry
from app.store.conn import Conn

_NOT_GRANTING = ("LookbackStarted",)
"""Events that name many sites' units at once: a lookback refers to every unit it found and
every site holding one, so being named beside a unit there is no part in that unit."""
_LOOKBACK_HOLD = b'"cause":"lookback"'
"""In a ``UnitQuarantined`` record, a hold a lookback placed. Recorded in the starter's name,
it would otherwise hand the starter every unit the lookback held, other regions' included."""


def _granting(types: str, hold: str) -> str:
    """The join to the events that give a site a part in what they concern (``x``)."""
    return (f"JOIN events e ON e.position = x.position AND e.type <> ALL({types}::text[]) "
            f"AND NOT (e.type = 'UnitQuarantined' AND position({hold}::bytea IN e.record) > 0)")


_TOUCHES = f"""
SELECT EXISTS (
    SELECT 1 FROM event_refs x
      JOIN event_refs s ON s.kind = 'site' AND s.ref = $3 AND s.position = x.position
      {_granting("$4", "$5")}
     WHERE x.kind = $1 AND x.ref = $2)
"""


async def site_touches(con: Conn, kind: str, ref: str, site_id: str) -> bool:
    """Whether any event concerning ``(kind, ref)`` also concerns ``site_id`` (as actor, or
    named in it), lookbacks and the holds they place aside."""
    found: bool = await con.fetchval(_TOUCHES, kind, ref, site_id, list(_NOT_GRANTING),
                                     _LOOKBACK_HOLD)
    return found


_SERVES = """
SELECT d.din FROM rm_donations d LEFT JOIN rm_sites s ON s.site_id = d.site_id
 WHERE d.din = ANY($1::text[])
   AND (d.site_id = $2 OR coalesce(d.dispatched_to, '[]') ? $2 OR coalesce(s.labs, '[]') ? $2)
"""


async def served_donations(con: Conn, dins: list[str], site_id: str) -> set[str]:
    """Those of ``dins`` that ``site_id`` collected or tests: the lab serving their collection
    site (``LabServiceAgreed``) or the lab their samples were sent to (``SamplesDispatched``).
    The same relation the domain's ``lab_serves`` decides who may record a result by."""
    rows = await con.fetch(_SERVES, dins, site_id)
    return {r["din"] for r in rows}


async def site_touches_unit(con: Conn, unit_id: str, din: str, site_id: str) -> bool:
    """A site may read a unit it touched (acted on, held, was sent, recorded a patient step
    on) or whose donation it collected or tests: a lab tests a donation's samples without
    ever holding its units."""
    if await site_touches(con, "unit", unit_id, site_id):
        return True
    return bool(await served_donations(con, [din], site_id))


async def site_touches_donation(con: Conn, din: str, site_id: str) -> bool:
    """A site may read a donation it touched, collected or tests."""
    if await site_touches(con, "donation", din, site_id):
        return True
    return bool(await served_donations(con, [din], site_id))


async def site_feed(con: Conn, site_id: str, after: int, limit: int) -> list[dict[str, Any]]:
    """Feed entries (position > ``after``, in order) of the events that concern ``site_id``."""
    rows = await con.fetch(
        f"""SELECT {FEED_COLUMNS} FROM events WHERE position IN (
                SELECT position FROM event_refs WHERE kind = 'site' AND ref = $1
                   AND position > $2 ORDER BY position LIMIT $3)
             ORDER BY position""",
        site_id, after, limit,
    )
    return [feed_entry(r) for r in rows]


async def _touched(con: Conn, kind: str, refs: list[str], site_id: str) -> set[str]:
    """Those of ``refs`` (of ``kind``) that an event concerning ``site_id`` concerns too, in
    one query (``site_touches`` for many)."""
    rows = await con.fetch(
        f"""SELECT u.id FROM unnest($1::text[]) AS u(id)
            WHERE EXISTS (
                SELECT 1 FROM event_refs x
                  JOIN event_refs s ON s.kind = 'site' AND s.ref = $2 AND s.position = x.position
                  {_granting("$3", "$4")}
                 WHERE x.kind = $5 AND x.ref = u.id)""",
        refs, site_id, list(_NOT_GRANTING), _LOOKBACK_HOLD, kind,
    )
    return {r["id"] for r in rows}


async def _readable(con: Conn, kind: str, refs: list[str], site_id: str,
                    din_of: Callable[[str], str]) -> set[str]:
    """Those of ``refs`` the site touched, or whose donation (``din_of``) it collected or
    tests."""
    if not refs:
        return set()
    found = await _touched(con, kind, refs, site_id)
    rest = [r for r in refs if r not in found]
    if rest:
        served = await served_donations(con, sorted({din_of(r) for r in rest}), site_id)
        found |= {r for r in rest if din_of(r) in served}
    return found


async def touched_units(con: Conn, unit_ids: list[str], site_id: str) -> set[str]:
    """Those of ``unit_ids`` that ``site_id`` may read (see ``site_touches_unit``)."""
    return await _readable(con, "unit", unit_ids, site_id, lambda u: u.split("-", 1)[0])


async def touched_donations(con: Conn, dins: list[str], site_id: str) -> set[str]:
    """Those of ``dins`` that ``site_id`` may read (see ``site_touches_donation``)."""
    return await _readable(con, "donation", dins, site_id, lambda din: din)


async def treated_patients(con: Conn, patient_ids: list[str], site_id: str) -> set[str]:
    """Those of ``patient_ids`` that ``site_id`` treats: it recorded a step naming them (a
    reservation, issue, transfusion, reaction, notification or patient fact)."""
    if not patient_ids:
        return set()
    rows = await con.fetch(
        """SELECT DISTINCT r.ref FROM event_refs r JOIN events e ON e.position = r.position
            WHERE r.kind = 'patient' AND r.ref = ANY($1::text[]) AND e.actor_site = $2""",
        patient_ids, site_id)
    return {r["ref"] for r in rows}


async def lookback_collectors(con: Conn, unit_ids: list[str]) -> set[str]:
    """The sites that collected the donations of these units, and the labs serving them:
    those who may start a lookback on them, and so read it whole."""
    dins = sorted({u.split("-", 1)[0] for u in unit_ids})
    rows = await con.fetch(
        """SELECT d.site_id, d.dispatched_to, s.labs FROM rm_donations d
             LEFT JOIN rm_sites s ON s.site_id = d.site_id WHERE d.din = ANY($1::text[])""",
        dins)
    sites: set[str] = set()
    for r in rows:
        if r["site_id"] is not None:
            sites.add(r["site_id"])
        for listed in (r["dispatched_to"], r["labs"]):
            if isinstance(listed, str):
                sites.update(orjson.loads(listed))
    return sites


async def lookback_destinations(con: Conn, lookback_id: str) -> dict[str, str]:
    """Unit → the site it was on its way to when the lookback started: that site holds a
    part of the lookback (it acknowledges the unit), and the read model keeps only the
    custodian."""
    record = await con.fetchval(
        """SELECT e.record FROM event_refs r JOIN events e ON e.position = r.position
            WHERE r.kind = 'lookback' AND r.ref = $1 AND e.type = 'LookbackStarted'
            ORDER BY e.position LIMIT 1""", lookback_id)
    if record is None:
        return {}
    units = orjson.loads(record)["data"].get("units") or ()
    return {u["unit_id"]: u["in_transit_to"] for u in units if u.get("in_transit_to")}


async def donation_exists(con: Conn, din: str) -> bool:
    found = await con.fetchval("SELECT 1 FROM rm_donations WHERE din = $1", din)
    return found is not None


async def unit_exists(con: Conn, unit_id: str) -> bool:
    found = await con.fetchval("SELECT 1 FROM rm_units WHERE unit_id = $1", unit_id)
    return found is not None


async def merkle_nodes(
    con: Conn, nodes: list[tuple[int, int]]
) -> dict[tuple[int, int], bytes]:
    """The stored perfect subtree hashes asked for (nodes never change once written)."""
    rows = await con.fetch(
        "SELECT n.level, n.idx, n.hash FROM merkle_nodes n JOIN unnest($1::int[], "
        "$2::bigint[]) AS w(level, idx) ON n.level = w.level AND n.idx = w.idx",
        [lv for lv, _ in nodes], [ix for _, ix in nodes])
    return {(r["level"], r["idx"]): r["hash"] for r in rows}
