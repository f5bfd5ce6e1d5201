"""Offline export verification, as an auditor runs it: ``bloodtrace export`` writes the log to
a file, then ``bloodtrace verify-export FILE --key VKEY`` (no database, no server) checks it in
its own process. The figure is the verifier's wall time, start-up included."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from app.config import Settings
from app.signing_keys import load_signers
from app.store.checkpoint_store import make_checkpoint, register_keys
from bench.figures import Figure, against_limit
from bench.server import ROOT
from bench.storage import OFFLINE_GOAL


async def sign_head(pool: asyncpg.Pool, url: str) -> str:
    """Sign a checkpoint at the head with the bench key (``BLOODTRACE_DATA_DIR``, set by
    ``bench.run``); return its verifier key."""
    settings = Settings(database_url=url)
    signers = await asyncio.to_thread(load_signers, settings)
    async with pool.acquire() as con:
        signers = await register_keys(con, signers)
        await make_checkpoint(con, signers, settings.log_origin)
    return str(signers[0].verifier)


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)


async def measure_offline(pool: asyncpg.Pool, url: str, work: Path, hash_limit: float
                          ) -> tuple[Figure, str]:
    vkey = await sign_head(pool, url)
    env = os.environ | {"DATABASE_URL": url}
    export = work / "export.jsonl"
    started = time.perf_counter()
    made = await asyncio.to_thread(_cli, env, "export", "--out", str(export))
    export_s = time.perf_counter() - started
    if made.returncode:
        return Figure("offline export verification", "export failed"), made.stderr[-300:]
    started = time.perf_counter()
    checked = await asyncio.to_thread(_cli, env, "verify-export", str(export), "--key", vkey)
    seconds = time.perf_counter() - started
    lines = checked.stdout.strip().splitlines()
    report: dict[str, Any] = (orjson.loads(lines[-1]) if lines
                              else {"ok": False, "reason": checked.stderr})
    size_mb = export.stat().st_size / 1e6
    export.unlink()
    if not report.get("ok"):
        return (Figure("offline export verification", "FAILED"),
                f"offline export verification failed: {report.get('reason')}")
    n = int(report["checked"])
    note = (f"offline: `bloodtrace export` wrote {n:,} records ({size_mb:,.0f} MB) in "
            f"{export_s:.1f} s; `bloodtrace verify-export` (its own process, every core) "
            f"checked {report.get('checkpoints', '?')} signed checkpoint(s) in {seconds:.1f} s")
    return against_limit(f"offline export verification ({n:,} events)", n / seconds,
                         hash_limit, "hashlib", OFFLINE_GOAL), note
