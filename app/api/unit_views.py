"""The reads of a unit and of a donation, with their access rules and redaction: what
``/v1/units``, ``/v1/donations`` and the web app's unit page all answer from."""

from __future__ import annotations

from typing import Any

from app.api import access
from app.api.proofs import attach_inclusion_proofs
from app.api.redact import feed_view, hide_patients
from app.errors import DonationNotFound, UnitNotFound
from app.events import isbt
from app.events.messages import Actor
from app.store import read_queries
from app.store.checkpoint_store import latest_checkpoint
from app.store.conn import Conn
from app.store.log_reader import history


async def readable_unit(con: Conn, actor: Actor, raw_id: str) -> str:
    """The canonical unit id, once the unit is known to exist and the key may read it."""
    unit_id = isbt.parse_unit_id(raw_id, "unit_id")
    await access.require_unit(con, actor, unit_id, isbt.din_of_unit(unit_id))
    return unit_id


async def unit_view(con: Conn, actor: Actor, raw_id: str) -> dict[str, Any]:
    """Current state, tests, parents and children, patient ids hidden as the key needs."""
    canonical = await readable_unit(con, actor, raw_id)
    state = await read_queries.unit_state(con, canonical)
    if state is None:
        raise UnitNotFound(f"unit {canonical} does not exist", field="unit_id")
    await hide_patients(con, actor, state)
    return state


async def history_view(con: Conn, actor: Actor, raw_id: str) -> dict[str, Any]:
    canonical = await readable_unit(con, actor, raw_id)
    events = await feed_view(con, actor, await history(con, "unit", canonical))
    return {"unit_id": canonical, "events": events}


async def provenance_view(con: Conn, actor: Actor, raw_id: str, origin: str
                          ) -> dict[str, Any]:
    """Lineage, custody, donations, patients, fate, and every event with its inclusion
    proof (in the latest checkpoint's tree when it covers the event), and that checkpoint."""
    canonical = await readable_unit(con, actor, raw_id)
    found = await read_queries.provenance(con, canonical)
    if found is None:
        raise UnitNotFound(f"unit {canonical} does not exist", field="unit_id")
    await hide_patients(con, actor, found)
    await attach_inclusion_proofs(con, found["events"], origin)
    signed = await latest_checkpoint(con, origin)
    found["checkpoint"] = None if signed is None else signed.note
    return found


async def donation_view(con: Conn, actor: Actor, raw_din: str) -> dict[str, Any]:
    """The donation, its tests, and the components the key may read."""
    bare = isbt.parse_din(raw_din, "din")
    await access.require_donation(con, actor, bare)
    found = await read_queries.donation(con, bare)
    if found is None:
        raise DonationNotFound(f"no donation with DIN {bare}", field="din")
    allowed = set(await access.readable_units(
        con, actor, [c["unit_id"] for c in found["components"]]))
    found["components"] = [c for c in found["components"] if c["unit_id"] in allowed]
    await hide_patients(con, actor, found)
    return found
