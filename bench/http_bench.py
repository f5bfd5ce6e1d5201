"""HTTP appends against the real server process: one event per request with 64 concurrent
connections, then ``POST /v1/events/batch`` with 1,000 events per request. Events/s count
what the log gained (its head position), not what the load generator thinks it sent.

Each is set against a limit measured in the same run (issue 16): single appends against the
``GET /healthz`` floor of the same server and against the ``eventsourcing`` library's
PostgreSQL save in process (``bench.eventsourcing_cmp``); batches against a raw COPY of the
log's own rows."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from app.store.keys import create_key
from bench.eventsourcing_cmp import THREADS, LibraryRun, library_saves
from bench.figures import Figure, against_limit, latency, rate
from bench.limits import copy_limit_events
from bench.loadgen import WrkResult, run_wrk
from bench.server import PeakRss, Server
from bench.storage import head

CLIENTS = 64
BATCH = 1000
BATCH_CLIENTS = 4
FLOOR_GOAL = 0.5
"""Single appends reach at least this share of the ``GET /healthz`` rate."""
LIBRARY_GOAL = 3.0
"""... and at least this multiple of the ``eventsourcing`` library's saves."""
COPY_GOAL = 0.35
"""Batches of 1,000 reach at least this share of a raw COPY of the same rows."""


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
            # Right after the single appends (the server idle), so that both see about the
            # same load from whatever else the machine runs.
            library = await library_saves(url, seconds)
            batch = await _load(server, con, "wrk_batch.lua", [token, run_id, str(BATCH)],
                                BATCH_CLIENTS, seconds)
        batch_limit = await copy_limit_events(con, batch.first, batch.last)
        record_bytes = await con.fetchval(
            "SELECT avg(octet_length(record)) FROM events WHERE position BETWEEN $1 AND $2",
            single.first, single.last)
    finally:
        await con.close()
    s, b = single.result, batch.result
    figures = [
        *single_figures(single, floor.requests / floor.seconds, library),
        latency("HTTP append latency (wrk)", s.p50_ms, s.p99_ms, None, 50),
        rate(f"HTTP floor: GET /healthz, {CLIENTS} clients (p99 {floor.p99_ms:.0f} ms)",
             floor.requests / floor.seconds, None, "", None, unit="req/s"),
        against_limit(f"HTTP batch append, {BATCH} events/request, {BATCH_CLIENTS} clients",
              batch.per_s, batch_limit, "COPY", COPY_GOAL),
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
        f"eventsourcing {library_version()}: `Application.save()` of a new aggregate per "
        f"event with `eventsourcing.postgres`, {THREADS} threads in process, same server, "
        f"its own database, {library.saves:,} saves in {library.seconds:.1f} s; "
        f"{library.mean_state_bytes:.0f} bytes stored per event (topic + state) against "
        f"{float(record_bytes or 0):.0f} bytes per canonical record of the single appends",
    ]
    return figures, notes


def single_figures(single: Run, floor_per_s: float, library: LibraryRun) -> list[Figure]:
    """Single appends against the ``/healthz`` floor and the ``eventsourcing`` library."""
    name = f"HTTP append, 1 event/request, {CLIENTS} clients"
    return [
        against_limit(name, single.per_s, floor_per_s, "GET /healthz", FLOOR_GOAL,
              limit_unit="req/s"),
        against_limit(f"{name}, against eventsourcing", single.per_s, library.per_s,
              f"eventsourcing save, {THREADS} threads", LIBRARY_GOAL, limit_unit="saves/s"),
    ]


def library_version() -> str:
    from importlib.metadata import version

    return version("eventsourcing")
