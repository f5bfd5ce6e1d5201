"""What must hold of the log after a failover: read through the cluster's primary."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime

import asyncpg
import httpx
import orjson

from app.log import merkle
from app.log.notes import Checkpoint, VerifierKey, open_checkpoint
from tests.conftest import ROOT
from tests.ha.load import Load


async def assert_log_matches(dsn: str, load: Load) -> int:
    """Positions are dense; the log holds exactly the acknowledged events, each once, where
    its acknowledgement said; every ``outcome: unknown`` landed once. Returns the size."""
    con = await asyncpg.connect(dsn)
    try:
        rows = await con.fetch("SELECT position, event_id FROM events ORDER BY position")
        head = await con.fetchval("SELECT position FROM log_head WHERE id = 1")
    finally:
        await con.close()
    positions = [r["position"] for r in rows]
    assert positions == list(range(1, len(rows) + 1)), "positions are not dense"
    assert head == len(rows)
    logged = Counter(str(r["event_id"]) for r in rows)
    assert max(logged.values(), default=1) == 1, "an event id is in the log twice"
    at = {str(r["event_id"]): r["position"] for r in rows}
    acked: dict[str, int] = {}
    for ack in load.acks:
        assert acked.setdefault(ack.event_id, ack.position) == ack.position, ack
        assert at.get(ack.event_id) == ack.position, f"acknowledged {ack} is not in the log"
    assert set(at) == set(acked), "the log holds events nobody had acknowledged"
    for event_id in load.unknown:
        assert logged[event_id] == 1 and event_id in acked, event_id
    return len(rows)


async def wait_standby_has(cluster_dsn_standby: str, size: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        con = await asyncpg.connect(cluster_dsn_standby)
        try:
            assert await con.fetchval("SELECT pg_is_in_recovery()")
            count = await con.fetchval("SELECT count(*) FROM events")
            top = await con.fetchval("SELECT coalesce(max(position), 0) FROM events")
        finally:
            await con.close()
        if count == top == size:
            return
        assert time.monotonic() < deadline, f"the standby holds {count} of {size}"
        await _sleep(0.2)


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


def bloodtrace_verify(dsn: str) -> dict[str, object]:
    """``bloodtrace verify`` as an operator runs it, on the multi-host DSN."""
    env = {**os.environ, "DATABASE_URL": dsn, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-m", "app.cli", "verify"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    report: dict[str, object] = orjson.loads(done.stdout.strip().splitlines()[-1])
    assert report["ok"] is True, report
    return report


async def checkpoints_around(dsn: str, moment: datetime,
                             timeout_s: float = 30) -> tuple[Checkpoint, Checkpoint]:
    """The last checkpoint signed before ``moment`` and the first signed after it (waiting
    for the checkpointer to sign one), each opened with the published keys."""
    deadline = time.monotonic() + timeout_s
    while True:
        con = await asyncpg.connect(dsn)
        try:
            rows = await con.fetch("SELECT size, note, created_at FROM checkpoints "
                                   "ORDER BY size")
            keys = [VerifierKey.parse(r["vkey"])
                    for r in await con.fetch("SELECT vkey FROM signing_keys")]
        finally:
            await con.close()
        before = [r for r in rows if r["created_at"] < moment]
        after = [r for r in rows if r["created_at"] > moment]
        if before and after:
            break
        assert time.monotonic() < deadline, f"no checkpoint on both sides of the failover: " \
            f"{[(r['size'], r['created_at']) for r in rows]}"
        await _sleep(0.5)
    opened = []
    for row in (before[-1], after[0]):
        checkpoint, signers = open_checkpoint(row["note"], keys)
        assert signers, f"checkpoint {row['size']} is not signed by a published key"
        opened.append(checkpoint)
    return opened[0], opened[1]


async def assert_consistent(http: httpx.AsyncClient, old: Checkpoint, new: Checkpoint) -> None:
    """The service's consistency proof takes the old signed root to the new one."""
    assert new.size > old.size
    response = await http.get("/v1/proofs/consistency",
                              params={"from_size": old.size, "to_size": new.size})
    assert response.status_code == 200, response.text
    proof = [base64.b64decode(h) for h in response.json()["proof"]]
    merkle.verify_consistency(old.size, new.size, proof, old.root, new.root)
