"""The writer: dense positions, a chain that recomputes, batching, idempotency, versions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import DomainError, IdempotencyConflict, WrongExpectedVersion
from app.events.messages import Actor
from tests.support.factories import note
from tests.support.ledger_domain import LedgerDomain, NoteRefused
from tests.support.log_checks import recompute


def ledger(open_for: Callable[..., Any], url: str) -> Any:
    return open_for(url, domain=LedgerDomain(), inline=())


async def test_positions_are_dense_and_chain_recomputes(fresh_db, open_for):
    async with ledger(open_for, fresh_db) as s:
        results = await asyncio.gather(*(s.writer.append(*note(f"s{i % 7}")) for i in range(120)))
    assert sorted(r.position for r in results) == list(range(1, 121))
    assert await recompute(fresh_db) == list(range(1, 121))


async def test_a_refused_command_fails_alone(fresh_db, open_for):
    async with ledger(open_for, fresh_db) as s:
        items = [note("a"), note("b", "refuse"), note("c"), note("d", "refuse"), note("e")]
        outcomes = await s.writer.append_many(items)
    assert [type(o).__name__ for o in outcomes] == [
        "AppendResult", "NoteRefused", "AppendResult", "NoteRefused", "AppendResult"]
    assert [o.position for o in outcomes if not isinstance(o, DomainError)] == [1, 2, 3]
    assert isinstance(outcomes[1], NoteRefused)
    assert await recompute(fresh_db) == [1, 2, 3]


async def test_each_command_sees_the_batch_before_it(fresh_db, open_for):
    async with ledger(open_for, fresh_db) as s:
        await s.writer.append_many([note("same") for _ in range(10)])
        con = await asyncpg.connect(fresh_db)
        body = await con.fetchval("SELECT body->>'notes' FROM write_state WHERE id = 'same'")
        versions = await con.fetch("SELECT stream_version FROM events ORDER BY position")
        await con.close()
    assert body == "10"
    assert [v[0] for v in versions] == list(range(1, 11))


async def test_idempotent_retry_returns_the_original(fresh_db, open_for):
    event_id = uuid4()
    async with ledger(open_for, fresh_db) as s:
        first = await s.writer.append(*note("x", event_id=event_id))
        await s.writer.append(*note("y"))
        again = await s.writer.append(*note("x", event_id=event_id))
        same_batch = await s.writer.append_many([note("z", event_id=(eid := uuid4())),
                                                 note("z", event_id=eid)])
        with pytest.raises(IdempotencyConflict):
            await s.writer.append(*note("x", "other text", event_id=event_id))
    assert (again.position, again.replayed) == (first.position, True)
    assert again.chain_hash == first.chain_hash
    assert same_batch[0].position == same_batch[1].position  # type: ignore[union-attr]
    assert await recompute(fresh_db) == [1, 2, 3]


async def test_item7_a_replay_is_bound_to_the_key_that_recorded_it(fresh_db, open_for):
    """Issue 20 item 7: the same event_id and content from another key is a bare 409 (no
    position, no hint whether the content matched), in a later batch and in the same one."""
    other = Actor(key_id="other-key", role="admin", site_id=None)
    event_id, shared = uuid4(), uuid4()
    async with ledger(open_for, fresh_db) as s:
        first = await s.writer.append(*note("x", event_id=event_id))
        for text in ("hello", "other text"):
            with pytest.raises(IdempotencyConflict) as refused:
                await s.writer.append(*note("x", text, event_id=event_id, actor=other))
            assert refused.value.extra == {}
            assert refused.value.detail == f"event_id {event_id} is already used"
        mine, theirs = await s.writer.append_many([note("y", event_id=shared),
                                                   note("y", event_id=shared, actor=other)])
        again = await s.writer.append(*note("x", event_id=event_id))
    assert not isinstance(mine, DomainError)
    assert isinstance(theirs, IdempotencyConflict) and theirs.extra == {}
    assert (again.position, again.replayed) == (first.position, True)
    assert await recompute(fresh_db) == [1, 2]


async def test_expected_version(fresh_db, open_for):
    async with ledger(open_for, fresh_db) as s:
        await s.writer.append(*note("v", expected_version=0))
        await s.writer.append(*note("v", expected_version=1))
        with pytest.raises(WrongExpectedVersion) as refused:
            await s.writer.append(*note("v", expected_version=1))
    assert refused.value.extra["current_version"] == 2


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(
    st.lists(st.tuples(st.sampled_from("abcde"), st.booleans()), min_size=1, max_size=30),
    min_size=1, max_size=6))
def test_property_random_batches_and_rejections(fresh_db, open_for, batches):
    """Whatever mix of batches and refusals, the log stays dense and its chain recomputes."""

    async def scenario() -> tuple[int, list[int]]:
        async with ledger(open_for, fresh_db) as s:
            con = await asyncpg.connect(fresh_db)
            before = await con.fetchval("SELECT position FROM log_head")
            await con.close()
            accepted = 0
            for batch in batches:
                outcomes = await s.writer.append_many(
                    [note(subj, "refuse" if bad else "ok") for subj, bad in batch])
                for (_, bad), outcome in zip(batch, outcomes, strict=True):
                    assert isinstance(outcome, NoteRefused) == bad
                    accepted += not bad
        return before + accepted, await recompute(fresh_db)

    expected_size, positions = asyncio.run(scenario())
    assert positions == list(range(1, expected_size + 1))
