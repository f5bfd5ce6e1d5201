"""One model of a unit: after long simulated networks through the real writer, every unit's
read-model row holds exactly the state the writer decides against (status, custodian, holds,
expiry, fate and every other field), and its view is the one ``view_of`` gives."""

from __future__ import annotations

from dataclasses import replace

import orjson
import pytest

from app.bootstrap import Services
from app.events.state import load_state
from app.events.unit import UnitState, view_of
from app.projections.tables import UNIT_STATE
from app.sim.runner import send
from app.sim.simulator import Simulator
from tests.integration.test_simulator import SMALL


@pytest.mark.parametrize("seed", [5, 83])
async def test_every_unit_row_is_the_writers_state(services: Services, seed: int) -> None:
    sim = Simulator(replace(SMALL, seed=seed, donations=320, days=140))
    for steps in sim.batches():
        sim.settle(steps, await send(services.writer, steps))
    async with services.pool.acquire() as con:
        written = {r["id"]: load_state("unit", orjson.loads(r["body"])) for r in await con.fetch(
            "SELECT id, body::text AS body FROM write_state WHERE kind = 'unit'")}
        rows = {r["unit_id"]: dict(r) for r in await con.fetch("SELECT * FROM rm_units")}
    assert len(written) > 500 and set(rows) == set(written)
    statuses = set()
    for unit_id, state in written.items():
        assert isinstance(state, UnitState)
        row = rows[unit_id]
        assert UNIT_STATE.state_of(row) == state, unit_id
        view = view_of(state)
        assert (row["status"], row["in_stock"], row["in_transit_from"], row["fate_site_id"]) == (
            view.status, view.in_stock, view.in_transit_from, view.fate_site_id), unit_id
        statuses.add(view.status)
    assert {"released", "consumed", "transfused", "discarded"} <= statuses
