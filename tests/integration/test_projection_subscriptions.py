"""Projection subscriptions on a network simulated through the real writer: the runner (inline
and in a rebuild) gives each projection only the events of its ``subscription``, and a
rebuild does not decode the others. Both paths skip the same events, so rebuild parity alone
cannot tell a wrong subscription; this folds the whole log with and without the skip, and
holds every type the units projection leaves out to changing no unit, donation or site."""

from __future__ import annotations

from dataclasses import replace

from app.bootstrap import Services
from app.events.registry import evolve
from app.events.state import State
from app.projections.units import UnitsProjection
from app.sim.runner import send
from app.sim.simulator import Simulator
from app.store.mapper import stored_event_from_row
from tests.integration.test_simulator import SMALL
from tests.unit.projection_fold import fold


async def test_skipping_unsubscribed_events_changes_no_row(services: Services) -> None:
    sim = Simulator(replace(SMALL, seed=31))
    for steps in sim.batches():
        sim.settle(steps, await send(services.writer, steps))
    async with services.pool.acquire() as con:
        rows = await con.fetch(
            "SELECT record, leaf_hash, chain_hash FROM events ORDER BY position")
    events = [stored_event_from_row(r) for r in rows]
    skipped = {e.type for e in events
               if not UnitsProjection.subscription.wants(e.type, e.late_entry_reason)}
    assert {"DonorRegistered", "PatientGroupDetermined"} <= skipped

    assert fold(events, 500, subscribed=True) == fold(events, 500)

    states: dict[tuple[str, str], State] = {}

    class World:
        def get(self, key: tuple[str, str]) -> State | None:
            return states.get(key)

    for e in events:
        changes = evolve(World(), e)
        if e.type in skipped:
            assert {kind for kind, _ in changes} <= {"donor", "patient", "account"}, e.type
        states.update(changes)
