"""RULES §5 read side, on real PostgreSQL: a modified product (irradiated red cells) is
counted in stock under its own product code, can be found by the attribute it gained, and
its lineage shows the modification."""

from __future__ import annotations

import asyncpg
import pytest

from app.store import read_queries as q
from tests.support.scene import RED_CELLS, actor, din, scene
from tests.support.unit_events import append_raw

IRRADIATED = "E0400V00"


@pytest.fixture
async def con(fresh_db: str):  # type: ignore[no-untyped-def]
    c = await asyncpg.connect(fresh_db)
    yield c
    await c.close()


async def test_modified_products_are_counted_under_their_own_codes(
        con: asyncpg.Connection) -> None:
    s = scene()
    reds = []
    for n in (1, 2, 3):
        whole = s.collect()
        s.test_all(din(n))
        reds.append(s.split(whole)[0])
    for red in reds:
        s.release(red)
    [_event] = s.do("UnitModified", {"unit_id": reds[0], "modification": "irradiated",
                                     "product_code": IRRADIATED, "device_id": "IRR-1"},
                    actor("processing", "BB1"))
    irradiated = f"{din(1)}-{IRRADIATED}"
    await append_raw(con, s.stored())

    page = await q.stock(con, site="BB1", category="red_cells", now=s.now)
    counts = {(c["product_code"], c["status"]): c["total"] for c in page["counts"]}
    assert counts == {(RED_CELLS, "released"): 2, (IRRADIATED, "released"): 1}
    assert {u["unit_id"] for u in page["units"]} == {irradiated, *reds[1:]}
    assert reds[0] not in {u["unit_id"] for u in page["units"]}  # the parent is consumed

    only = await q.stock(con, site="BB1", attribute="irradiated", now=s.now)
    assert [(u["unit_id"], u["attributes"]) for u in only["units"]] == [
        (irradiated, ["irradiated"])]
    by_code = await q.stock(con, site="BB1", product_code=RED_CELLS, now=s.now)
    assert {u["unit_id"] for u in by_code["units"]} == set(reds[1:])

    unit = await q.unit_state(con, irradiated)
    assert unit is not None
    assert [(p["unit_id"], p["kind"]) for p in unit["parents"]] == [(reds[0], "irradiated")]
    prov = await q.provenance(con, irradiated, now=s.now)
    assert prov is not None
    edges = {(e["parent_unit_id"], e["child_unit_id"], e["kind"])
             for e in prov["lineage"]["edges"]}
    assert (reds[0], irradiated, "irradiated") in edges  # the edge names the modification
