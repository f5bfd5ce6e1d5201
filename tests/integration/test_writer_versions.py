"""``expected_version`` in a batch: the batch is decided once with every check deferred to a
single look-up of the versions, and again, check by check, only when one fails. Either way
each command is answered as if decided alone, in order, after the ones before it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import DomainError, WrongExpectedVersion
from app.store.writer import AppendResult, Writer
from tests.support.factories import note
from tests.support.ledger_domain import LedgerDomain
from tests.support.log_checks import recompute


def model(items: list[tuple[str, int | None]]) -> list[int]:
    """Decided one by one: each accepted command's stream version, and for a refused one
    ``-1 - current_version``."""
    versions: dict[str, int] = {}
    out: list[int] = []
    for subject, expected in items:
        current = versions.get(subject, 0)
        if expected is not None and expected != current:
            out.append(-1 - current)
        else:
            versions[subject] = current + 1
            out.append(current + 1)
    return out


def observed(outcomes: list[AppendResult | DomainError]) -> list[int]:
    seen: list[int] = []
    for outcome in outcomes:
        if isinstance(outcome, WrongExpectedVersion):
            seen.append(-1 - outcome.extra["current_version"])
        else:
            assert isinstance(outcome, AppendResult), outcome
            seen.append(outcome.stream_version)
    return seen


async def test_a_refused_check_changes_what_follows_it(fresh_db: str, open_for: Callable[..., Any]
                                                       ) -> None:
    run = uuid4().hex[:6]
    items: list[tuple[str, int | None]] = [
        (f"v{run}", 0), (f"v{run}", 0), (f"v{run}", 1), (f"w{run}", 5), (f"v{run}", None)]
    async with open_for(fresh_db, domain=LedgerDomain(), inline=()) as s:
        outcomes = await s.writer.append_many(
            [note(subject, expected_version=v) for subject, v in items])
    assert observed(outcomes) == model(items) == [1, -2, 2, -1, 3]
    assert await recompute(fresh_db) == list(range(1, 4))


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(
    st.tuples(st.sampled_from("abc"), st.one_of(st.none(), st.integers(0, 4))),
    min_size=1, max_size=12), min_size=1, max_size=4))
def test_property_batches_answer_as_one_by_one(fresh_db: str, open_for: Callable[..., Any],
                                               batches: list[list[tuple[str, int | None]]]
                                               ) -> None:
    run = uuid4().hex[:6]
    flat = [(f"{subject}{run}", v) for batch in batches for subject, v in batch]

    async def scenario() -> list[int]:
        seen: list[int] = []
        async with open_for(fresh_db, domain=LedgerDomain(), inline=()) as s:
            for batch in batches:
                seen += observed(await s.writer.append_many(
                    [note(f"{subject}{run}", expected_version=v) for subject, v in batch]))
        return seen

    assert asyncio.run(scenario()) == model(flat)


async def test_checks_on_new_streams_cost_no_look_up_each(fresh_db: str) -> None:
    sent: list[str] = []
    pool = await asyncpg.create_pool(fresh_db, min_size=1, max_size=1)
    writer = Writer(pool, LedgerDomain())
    await writer.start()
    try:
        async with pool.acquire() as con:
            con.add_query_logger(lambda logged: sent.append(logged.query))
        counts = []
        for n in (1, 1, 20, 200):
            sent.clear()
            run = uuid4().hex[:6]
            outcomes = await writer.append_many(
                [note(f"s{run}-{i}", expected_version=0) for i in range(n)])
            assert all(isinstance(o, AppendResult) for o in outcomes)
            await asyncio.sleep(0.05)  # the logger's callbacks run on the loop
            counts.append(len(sent))
    finally:
        await writer.stop()
        await pool.close()
    assert counts[1] == counts[2] == counts[3] > 0, counts
