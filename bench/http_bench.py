"""HTTP appends against the real server process: one event per request with 64 concurrent
connections, then ``POST /v1/events/batch`` with 1,000 events per request. Events/s count
what the log gained (its head position), not what the load generator thinks it sent."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from app.store.keys import create_key
from bench.figures import Figure, latency, rate
from bench.limits import copy_limit_events
from bench.loadgen import WrkResult, run_wrk
from bench.server import PeakRss, Server
from bench.storage import head

CLIENTS = 64
BATCH = 1000
BATCH_CLIENTS = 4


@dataclass(frozen=True, slots=True)
class Run:
    result: WrkResult
    first: int
    last: int
    peak_rss_mb: float

    @property
    def events(self) -> int:
        return self.last - self.first + 1

    @property
    def per_s(self) -> float:
        return self.events / self.result.seconds


async def _load(server: Server, con: asyncpg.Connection, script: str, args: list[str],
                connections: int, seconds: int) -> Run:
    start = await head(con)
    with PeakRss(server.pid) as rss:
        result = await asyncio.to_thread(
            run_wrk, server.base_url, script, args, connections=connections, threads=2,
            seconds=seconds, timeout_s=30)
    return Run(result, start + 1, await head(con), rss.peak)


async def http_appends(url: str, seconds: int, warmup: int, work: Path, workers: int = 1
                       ) -> tuple[list[Figure], list[str]]:
    con = await asyncpg.connect(url)
    try:
        token = (await create_key(con, "admin", None, "bench")).token
        run_id = uuid.uuid4().hex[:8]
        with Server(url, work / "server.log", workers) as server:
            await asyncio.to_thread(run_wrk, server.base_url, "wrk_single.lua",
                                    [token, run_id + "w"], connections=CLIENTS, threads=2,
                                    seconds=warmup)
            floor = await asyncio.to_thread(run_wrk, server.base_url + "/healthz",
                                            "wrk_get.lua", [], connections=CLIENTS, threads=2,
                                            seconds=max(2, seconds // 3))
            single = await _load(server, con, "wrk_single.lua", [token, run_id],
                                 CLIENTS, seconds)
            batch = await _load(server, con, "wrk_batch.lua", [token, run_id, str(BATCH)],
                                BATCH_CLIENTS, seconds)
        single_limit = await copy_limit_events(con, single.first, single.last)
        batch_limit = await copy_limit_events(con, batch.first, batch.last)
    finally:
        await con.close()
    s, b = single.result, batch.result
    figures = [
        rate(f"HTTP append, 1 event/request, {CLIENTS} clients", single.per_s, single_limit,
             "COPY", 3_000),
        latency("HTTP append latency (wrk)", s.p50_ms, s.p99_ms, None, 50),
        rate(f"HTTP floor: GET /healthz, {CLIENTS} clients (p99 {floor.p99_ms:.0f} ms)",
             floor.requests / floor.seconds, None, "", None, unit="req/s"),
        rate(f"HTTP batch append, {BATCH} events/request, {BATCH_CLIENTS} clients",
             batch.per_s, batch_limit, "COPY", 30_000),
        Figure(f"server RSS, peak under load ({workers} worker)",
               f"{max(single.peak_rss_mb, batch.peak_rss_mb):,.0f} MB", target="<= 300 MB",
               status="PASS" if max(single.peak_rss_mb, batch.peak_rss_mb) <= 300 else "MISS"),
    ]
    notes = [
        f"HTTP: `bloodtrace serve --workers {workers}` (uvicorn) and wrk (2 threads, Lua bodies: "
        f"DonorRegistered with unique donor ids) as separate processes, {seconds} s each after "
        f"a {warmup} s warm-up; single: {single.events:,} events in {s.seconds:.1f} s, "
        f"{s.non2xx} non-2xx, {s.socket_errors} socket errors; batch: {batch.events:,} events "
        f"in {b.requests:,} requests, p50 {b.p50_ms:.0f} ms / p99 {b.p99_ms:.0f} ms per request, "
        f"{b.non2xx} non-2xx",
    ]
    return figures, notes
