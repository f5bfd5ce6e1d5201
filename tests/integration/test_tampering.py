"""Tampering behind the service's back: the database refuses what it can, and verification
names the exact position of what a superuser did anyway."""

from __future__ import annotations

import asyncpg
import pytest

from app.log.verify import verify_log
from app.store.log_reader import PgLogRows
from tests.support.factories import note
from tests.support.ledger_domain import LedgerDomain

N = 40


async def _filled(open_for, url):
    async with open_for(url, domain=LedgerDomain(), inline=()) as s:
        await s.writer.append_many([note(f"s{i % 4}") for i in range(N)])


async def _verify(url: str):
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    try:
        return await verify_log(PgLogRows(pool))
    finally:
        await pool.close()


async def _as_superuser(url: str, *sql: str) -> None:
    con = await asyncpg.connect(url)
    try:
        await con.execute("SET session_replication_role = replica")  # triggers off
        for statement in sql:
            await con.execute(statement)
    finally:
        await con.close()


async def test_intact_log_verifies(fresh_db, open_for):
    await _filled(open_for, fresh_db)
    report = await _verify(fresh_db)
    assert (report.ok, report.checked, report.first_bad_position) == (True, N, None)


@pytest.mark.parametrize("statement", [
    "UPDATE events SET type = 'X' WHERE position = 3",
    "DELETE FROM events WHERE position = 3",
    "TRUNCATE events CASCADE",
    "UPDATE merkle_nodes SET hash = '\\x00' WHERE level = 0 AND idx = 0",
    "DELETE FROM event_refs",
    "UPDATE log_head SET position = 1",
])
async def test_the_service_role_cannot_change_history(fresh_db, open_for, statement):
    await _filled(open_for, fresh_db)
    async with open_for(fresh_db, domain=LedgerDomain(), inline=()) as s:
        async with s.pool.acquire() as con:
            with pytest.raises(asyncpg.PostgresError):
                await con.execute(statement)
    assert (await _verify(fresh_db)).ok


async def test_even_the_owner_is_stopped_by_the_triggers(fresh_db, open_for):
    await _filled(open_for, fresh_db)
    con = await asyncpg.connect(fresh_db)
    try:
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await con.execute("UPDATE events SET type = 'X' WHERE position = 3")
    finally:
        await con.close()


@pytest.mark.parametrize("k", [1, 17, N])
async def test_one_changed_byte_is_found_at_its_position(fresh_db, open_for, k):
    await _filled(open_for, fresh_db)
    # flip one byte inside the data object of record k
    await _as_superuser(fresh_db, f"""
        UPDATE events SET record = overlay(record placing
            decode(lpad(to_hex(get_byte(record, 30) # 1), 2, '0'), 'hex') from 31 for 1)
        WHERE position = {k}""")
    report = await _verify(fresh_db)
    assert (report.ok, report.first_bad_position) == (False, k)


@pytest.mark.parametrize("k", [1, 17, N])
async def test_a_deleted_record_is_found_at_its_position(fresh_db, open_for, k):
    await _filled(open_for, fresh_db)
    await _as_superuser(fresh_db, f"DELETE FROM event_refs WHERE position = {k}",
                        f"DELETE FROM events WHERE position = {k}")
    report = await _verify(fresh_db)
    assert (report.ok, report.first_bad_position) == (False, k)


async def test_swapped_records_are_caught(fresh_db, open_for):
    await _filled(open_for, fresh_db)
    await _as_superuser(fresh_db, """
        UPDATE events e SET record = o.record, leaf_hash = o.leaf_hash
          FROM events o
         WHERE (e.position, o.position) IN ((10, 20), (20, 10))""")
    report = await _verify(fresh_db)
    assert (report.ok, report.first_bad_position) == (False, 10)


async def test_rewritten_hashes_still_fail_against_the_head(fresh_db, open_for):
    """A superuser who also recomputes leaf and chain of a rewritten last record is caught by
    the head's chain hash (and, for anyone holding a checkpoint, by its signature)."""
    await _filled(open_for, fresh_db)
    await _as_superuser(fresh_db, f"""
        UPDATE events SET record = replace(encode(record, 'escape'), 'hello', 'HELLO')::bytea,
               leaf_hash = sha256('\\x00'::bytea || replace(encode(record, 'escape'),
                                                    'hello', 'HELLO')::bytea)
         WHERE position = {N}""",
        f"""UPDATE events SET chain_hash = sha256('bloodtrace/chain/v1'::bytea ||
               (SELECT chain_hash FROM events WHERE position = {N - 1}) || leaf_hash)
             WHERE position = {N}""")
    report = await _verify(fresh_db)
    assert (report.ok, report.first_bad_position) == (False, N)
