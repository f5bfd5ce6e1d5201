"""The running service signs checkpoints by itself: every N events, and once more on the way
down, each consistent with the one before and signed by the key the manifest publishes."""

from __future__ import annotations

import asyncio

import asyncpg

from app.bootstrap import open_services
from app.log import merkle
from app.log.notes import VerifierKey, open_checkpoint
from tests.conftest import settings_for
from tests.support.factories import note
from tests.support.ledger_domain import LedgerDomain


async def test_checkpoints_follow_the_log(fresh_db, tmp_path):
    settings = settings_for(fresh_db, data_dir=tmp_path, checkpoint_every_events=50,
                            checkpoint_every_seconds=0.2)
    async with open_services(settings, domain=LedgerDomain(), inline=()) as s:
        for _ in range(4):
            await s.writer.append_many([note(f"c{i % 5}") for i in range(60)])
            await asyncio.sleep(1.0)  # the checkpointer looks every 0.2 s
        await s.writer.append_many([note("tail")])
    con = await asyncpg.connect(fresh_db)
    try:
        rows = await con.fetch("SELECT size, note FROM checkpoints ORDER BY size")
        vkeys = [r["vkey"] for r in await con.fetch("SELECT vkey FROM signing_keys")]
        head = await con.fetchval("SELECT position FROM log_head")
        leaves = [r["leaf_hash"] for r in await con.fetch(
            "SELECT leaf_hash FROM events ORDER BY position")]
    finally:
        await con.close()
    assert (tmp_path / "signing-key.pem").exists()
    keys = [VerifierKey.parse(v) for v in vkeys]
    sizes = [r["size"] for r in rows]
    assert sizes[-1] == head == 241  # the last one is signed at shutdown
    assert len(sizes) >= 3 and sizes == sorted(set(sizes))
    for row in rows:
        checkpoint, signed_by = open_checkpoint(row["note"], keys)
        assert signed_by
        assert checkpoint.root == merkle.root(leaves[: checkpoint.size])
