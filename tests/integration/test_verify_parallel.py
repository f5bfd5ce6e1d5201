"""Online verification split over worker processes gives the sequential verdict: the same
``ok``, count, first bad position and reason, for every kind of tampering that
``test_tampering`` covers (and a few more), wherever it falls against the workers' segments."""

from __future__ import annotations

import asyncio
import itertools

import asyncpg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.log.verify import VerifyReport, cut, verify_log
from app.store.log_reader import PgLogRows
from tests.integration.test_tampering import _as_superuser as _superuser
from tests.support.factories import note
from tests.support.ledger_domain import LedgerDomain

N = 48

FLIP = """UPDATE events SET record = overlay(record placing
            decode(lpad(to_hex(get_byte(record, 30) # 1), 2, '0'), 'hex') from 31 for 1)
          WHERE position = {k}"""
TAMPERING = {
    # the kinds of test_tampering: a changed byte, a deleted record, swapped records, a
    # rewritten record whose leaf and chain hashes were recomputed too
    "flip": [FLIP],
    "delete": ["DELETE FROM events WHERE position = {k}"],
    "swap": ["""UPDATE events e SET record = o.record, leaf_hash = o.leaf_hash FROM events o
                 WHERE (e.position, o.position) IN (({k}, {j}), ({j}, {k})) AND {k} <> {j}"""],
    "rehash": [
        """UPDATE events SET record = replace(encode(record, 'escape'), 'hello', 'HELLO')::bytea,
                  leaf_hash = sha256('\\x00'::bytea || replace(encode(record, 'escape'),
                                                       'hello', 'HELLO')::bytea)
            WHERE position = {k}""",
        """UPDATE events SET chain_hash = sha256('bloodtrace/chain/v1'::bytea ||
                  coalesce((SELECT chain_hash FROM events WHERE position = {k} - 1),
                           '\\x0000000000000000000000000000000000000000000000000000000000000000'
                           ::bytea) || leaf_hash)
            WHERE position = {k}"""],
    # and: a run of deleted records, a cut tail, a changed stored chain hash
    "delete_run": ["DELETE FROM events WHERE position BETWEEN {k} AND {k} + 4"],
    "cut_tail": ["DELETE FROM events WHERE position >= {k}"],
    "chain": ["UPDATE events SET chain_hash = sha256(chain_hash) WHERE position = {k}"],
}


@pytest.fixture
def filled(fresh_db, open_for):
    """A log of N notes, and a copy of its rows to put back after each tampering."""

    async def fill() -> None:
        async with open_for(fresh_db, domain=LedgerDomain(), inline=()) as s:
            await s.writer.append_many([note(f"s{i % 4}") for i in range(N)])
        con = await asyncpg.connect(fresh_db)
        try:
            await con.execute("CREATE TABLE saved_events AS SELECT * FROM events")
        finally:
            await con.close()

    asyncio.run(fill())
    return fresh_db


async def _both(url: str, workers: int, start: int = 1) -> tuple[VerifyReport, VerifyReport]:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    try:
        sequential = await verify_log(PgLogRows(pool), start)
        parallel = await verify_log(PgLogRows(pool, dsn=url, workers=workers), start,
                                    parallel_min=0)
    finally:
        await pool.close()
    return sequential, parallel


def _tampered(url: str, kind: str, k: int, j: int, workers: int, start: int = 1
              ) -> tuple[VerifyReport, VerifyReport]:
    async def scenario() -> tuple[VerifyReport, VerifyReport]:
        await _superuser(url, *(s.format(k=k, j=j) for s in TAMPERING[kind]))
        try:
            return await _both(url, workers, start)
        finally:
            await _superuser(url, "DELETE FROM events",
                             "INSERT INTO events SELECT * FROM saved_events")

    return asyncio.run(scenario())


def test_an_intact_log_verifies_in_parallel(filled):
    sequential, parallel = asyncio.run(_both(filled, 3))
    assert sequential == parallel == VerifyReport(True, N, None, None)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(sorted(TAMPERING)), k=st.integers(1, N), j=st.integers(1, N),
       workers=st.integers(2, 5))
@example(kind="rehash", k=N, j=1, workers=2)
@example(kind="delete", k=N // 4 + 1, j=1, workers=2)  # the first row of the second segment
@example(kind="delete", k=N // 4, j=1, workers=2)  # the last row of the first segment
@example(kind="cut_tail", k=N // 2 + 1, j=1, workers=2)
def test_tampering_gives_the_sequential_verdict(filled, kind, k, j, workers):
    sequential, parallel = _tampered(filled, kind, k, j, workers)
    assert parallel == sequential
    if kind != "swap" or k != j:
        assert not sequential.ok


@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize("kind", ["flip", "delete", "chain"])
def test_at_every_segment_boundary(filled, kind, workers):
    """Tampering just before, at and just after each cut between two workers' segments."""
    segments = cut(1, N, workers)
    edges = sorted({p for a, b in segments for p in (a - 1, a, b, b + 1) if 1 <= p <= N})
    for k in edges:
        sequential, parallel = _tampered(filled, kind, k, k, workers)
        assert parallel == sequential, k
        assert sequential.first_bad_position == k


def test_a_range_check_in_parallel(filled):
    """From a later position, each worker anchors on the chain hash stored before it."""
    for k, start in itertools.product((20, 30), (10, 25)):
        sequential, parallel = _tampered(filled, "flip", k, k, 2, start)
        assert parallel == sequential
        assert sequential.ok == (k < start)
