"""The writer loads whole lineages from the database: a lookback over a donor's long history
(many donations, each split into components) is decided in one command, level by level."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import orjson

from app.events.messages import Command, content_hash
from tests.support.log_checks import recompute
from tests.support.scene import PLASMA, PLATELETS, RED_CELLS, Scene, actor


class RecordingScene(Scene):
    """The pure-domain scene of the unit tests, keeping each command to replay it."""

    def __init__(self) -> None:
        super().__init__()
        self.commands: list[Command] = []

    def command(self, *args: Any, **kwargs: Any) -> Command:
        cmd = super().command(*args, **kwargs)
        self.commands.append(cmd)
        return cmd


async def test_lookback_over_twelve_split_donations_in_one_command(services, fresh_db):
    scene = RecordingScene().network()
    donor = scene.new_donor("DNR-LONG-1")
    units = []
    for _ in range(12):
        whole = scene.collect(donor_id=donor, at=scene.later(days=120))
        units += scene.split(whole, [(RED_CELLS, "red_cells", 200), (PLASMA, "plasma", 150),
                                     (PLATELETS, "platelets", 50)])
    history = [(c, content_hash(c, True)) for c in scene.commands]
    outcomes = await services.writer.append_many(history)  # one batch: each sees the last
    assert all(not isinstance(o, Exception) for o in outcomes), outcomes

    since = (scene.commands[0].occurred_at - timedelta(days=1)).isoformat()
    lookback = scene.command("LookbackStarted", {
        "lookback_id": "LB-LONG-1", "donor_id": donor, "marker": "HBV", "since": since,
    }, actor("admin", None))
    result = await services.writer.append(lookback, content_hash(lookback, True))
    assert len(result.derived) == 36  # every component in stock is quarantined

    con = await asyncpg.connect(fresh_db)
    try:
        data = await con.fetchval(
            "SELECT convert_from(record, 'UTF8')::jsonb -> 'data' FROM events WHERE position = $1",
            result.position)
    finally:
        await con.close()
    found = {u["unit_id"] for u in orjson.loads(data)["units"]}
    assert set(units) <= found
    assert (await recompute(fresh_db))[-1] == result.position + 36
