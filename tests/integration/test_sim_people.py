"""Acceptance (issue 14): every event of a simulated network recorded through a person
carries ``actor.user_id``, and its signed steps carry that person's signature."""

from __future__ import annotations

from dataclasses import replace

import orjson

from app.bootstrap import Services
from app.events.signatures import meaning_of
from app.sim.runner import send
from app.sim.simulator import Simulator
from app.sim.state import OPERATOR
from tests.integration.test_simulator import SMALL


async def test_every_simulated_step_names_its_person(services: Services) -> None:
    sim = Simulator(replace(SMALL, donations=120, days=60))
    for steps in sim.batches():
        sim.settle(steps, await send(services.writer, steps))
    async with services.pool.acquire() as con:
        records = [orjson.loads(r["record"]) for r in await con.fetch(
            "SELECT record FROM events ORDER BY position")]
        by_user = {r["actor_user"] for r in await con.fetch(
            "SELECT DISTINCT actor_user FROM events")}
    assert len(records) > 1000
    by_operator = [r for r in records if r["actor"]["key_id"] == OPERATOR.key_id]
    assert [r["type"] for r in by_operator] == ["AccountCreated", "AccountLocked"]
    people = [r for r in records if r["actor"]["key_id"] != OPERATOR.key_id]
    assert all(r["actor"].get("user_id") for r in people)
    assert all(r["actor"]["key_id"] == f"user:{r['actor']['user_id']}" for r in people)
    created = {r["data"]["user_id"] for r in records if r["type"] == "AccountCreated"}
    assert {r["actor"]["user_id"] for r in people} <= created
    assert len(by_user - {None}) > 5
    asked_for = [r for r in people if r["data"].get("cause_event_id") is None]
    signed = [r for r in asked_for if meaning_of(r["type"], r["data"])]
    assert {r["type"] for r in signed} >= {"UnitReleased", "QuarantineLifted"}
    for r in signed:
        if r["type"] == "QuarantineLifted" and "signature" not in r:
            continue  # a custodian's own hold is lifted unsigned
        assert r["signature"]["user_id"] == r["actor"]["user_id"]
        assert r["signature"]["meaning"] == meaning_of(r["type"], r["data"])
    assert all("signature" in r for r in people if r["type"] == "UnitReleased")
