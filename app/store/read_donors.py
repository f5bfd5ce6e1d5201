"""Read queries behind the donor registry's lists and reports: donor states (the writer's
``write_state``, the one truth the rules decide on), their donations and test results, and
the lookbacks started from their donations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from app.events import recall
from app.events.state import DonorState, load_state
from app.store.conn import Conn


def _donor(body: str) -> DonorState:
    state = load_state("donor", orjson.loads(body))
    assert isinstance(state, DonorState)
    return state


async def donor(con: Conn, donor_id: str) -> DonorState | None:
    body = await con.fetchval(
        "SELECT body::text FROM write_state WHERE kind = 'donor' AND id = $1", donor_id)
    return None if body is None else _donor(body)


async def donors_of_site(con: Conn, site_id: str | None) -> list[tuple[DonorState, datetime]]:
    """Donors with an identity in the vault who gave at ``site_id`` or registered there
    (every such donor for None), each with when the vault registered them."""
    rows = await con.fetch(
        """SELECT w.body::text AS body, v.registered_at
             FROM donor_vault v
             JOIN write_state w ON w.kind = 'donor' AND w.id = v.donor_id
            WHERE $1::text IS NULL OR v.registered_site = $1
               OR EXISTS (SELECT 1 FROM rm_donations d
                           WHERE d.donor_id = v.donor_id AND d.site_id = $1)
            ORDER BY v.donor_id""", site_id)
    return [(_donor(r["body"]), r["registered_at"]) for r in rows]


async def last_sites(con: Conn, donor_ids: list[str]) -> dict[str, str]:
    """Where each donor last gave."""
    rows = await con.fetch(
        """SELECT DISTINCT ON (donor_id) donor_id, site_id FROM rm_donations
            WHERE donor_id = ANY($1::text[]) ORDER BY donor_id, collected_at DESC""",
        donor_ids)
    return {r["donor_id"]: r["site_id"] for r in rows}


async def donations(con: Conn, donor_id: str) -> list[dict[str, Any]]:
    rows = await con.fetch(
        """SELECT din, site_id, collection_type, product_code, category, volume_ml,
                  collected_at FROM rm_donations WHERE donor_id = $1 ORDER BY collected_at""",
        donor_id)
    return [dict(r) for r in rows]


async def test_results(con: Conn, dins: list[str]) -> list[dict[str, Any]]:
    rows = await con.fetch(
        """SELECT din, marker, test_kind, result, lab_site_id, tested_at FROM rm_tests
            WHERE din = ANY($1::text[]) ORDER BY din, position""", dins)
    return [dict(r) for r in rows]


async def lookbacks_of(con: Conn, donor_ids: list[str]) -> list[dict[str, Any]]:
    """Lookbacks started from the donors (by donor, or by one of their DINs)."""
    rows = await con.fetch(
        """SELECT l.lookback_id, coalesce(l.donor_id, d.donor_id) AS donor_id, l.din,
                  l.marker, l.started_at, l.site_id
             FROM rm_lookbacks l LEFT JOIN rm_donations d ON d.din = l.din
            WHERE coalesce(l.donor_id, d.donor_id) = ANY($1::text[])
            ORDER BY l.started_at, l.lookback_id""", donor_ids)
    return [dict(r) for r in rows]


async def past_retention(con: Conn, years: int, now: datetime) -> list[dict[str, Any]]:
    """Every vault donor whose identity is past retention, longest past first."""
    found = [{"donor_id": s.donor_id, "last_donation_at": recall.last_donation_at(s),
              "retention_ended_at": ended}
             for s, registered in await donors_of_site(con, None)
             if (ended := recall.past_retention(s, registered, years, now)) is not None]
    return sorted(found, key=lambda x: (x["retention_ended_at"], x["donor_id"]))
