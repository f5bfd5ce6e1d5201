"""The ``eventsourcing`` library's PostgreSQL save, in process, as the yardstick for single
HTTP appends (issue 16).

A fair small comparison:
- the same PostgreSQL server (the bench's embedded one), in a database of its own, with the
  same durability (the server's ``synchronous_commit`` and ``fsync``, which neither side
  changes);
- records of a similar size: a ``Donor`` aggregate registered with the fields of the
  bench's ``DonorRegistered`` (donor id, ABO, RhD) and the envelope bloodtrace records
  (when it happened, who recorded it), so that the library stores about as many bytes per
  event as the log's canonical record; both sizes are measured and reported;
- the library used as documented: one ``Application`` with ``eventsourcing.postgres``,
  ``save()`` per new aggregate, from ``THREADS`` threads (its pool as large), so that it may
  overlap what its table lock lets it overlap.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg

from app.store.database import with_database

THREADS = 8


@dataclass(frozen=True, slots=True)
class LibraryRun:
    saves: int
    seconds: float
    mean_state_bytes: float

    @property
    def per_s(self) -> float:
        return self.saves / self.seconds


def _env(url: str) -> dict[str, str]:
    """The library's settings for the database at ``url`` (a Unix socket or a TCP host)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or "127.0.0.1"])[0]
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts.path.lstrip("/"),
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": str(parts.port or query.get("port", ["5432"])[0]),
        "POSTGRES_USER": parts.username or "postgres",
        "POSTGRES_PASSWORD": parts.password or "",
        "POSTGRES_POOL_SIZE": str(THREADS),
        "CREATE_TABLE": "y",
    }


def _run(url: str, seconds: float) -> int:
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    class Donor(Aggregate):
        @event("Registered")
        def __init__(self, donor_id: str, abo: str, rhd: str, occurred_at: str,
                     actor: dict[str, Any]) -> None:
            self.donor_id, self.abo, self.rhd = donor_id, abo, rhd
            self.occurred_at, self.actor = occurred_at, actor

    app: Application[uuid.UUID] = Application(env=_env(url))
    actor = {"key_id": uuid.uuid4().hex[:16], "role": "admin", "site_id": None}
    deadline = time.perf_counter() + seconds
    counts = [0] * THREADS

    def saver(n: int) -> None:
        while time.perf_counter() < deadline:
            app.save(Donor(f"B1-es-{n}-{counts[n]}", "O", "POS",
                           datetime.now(UTC).isoformat(), actor))
            counts[n] += 1

    workers = [threading.Thread(target=saver, args=(n,)) for n in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    app.close()
    return sum(counts)


async def library_saves(admin_url: str, seconds: float) -> LibraryRun:
    """Saves/s of the library for ``seconds``, in a database created (and dropped) here."""
    import asyncio

    name = f"bench_es_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(admin_url, name)
    try:
        started = time.perf_counter()
        saves = await asyncio.to_thread(_run, url, seconds)
        elapsed = time.perf_counter() - started
        con = await asyncpg.connect(url)
        try:
            table = await con.fetchval(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_name LIKE '%events'")
            size = await con.fetchval(
                f'SELECT avg(octet_length(state) + octet_length(topic)) FROM "{table}"')
        finally:
            await con.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return LibraryRun(saves, elapsed, float(size or 0))
