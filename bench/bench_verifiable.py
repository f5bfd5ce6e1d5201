"""Verifiable-log figures at 1 M events: offline export verification and proof generation.

``python -m bench.bench_verifiable [--events N]``

- Offline verification: a SYNTHETIC export of N records (shaped like the log's records, a
  signed checkpoint every 1,000) is written to a temporary file and verified with
  ``verify_export_file``, on one process and on every core. The limit beside it is hashlib
  alone over the very same record bytes (leaf and chain hash per record), timed in this run.
- Proofs: a separate database gets the ``merkle_nodes`` of N synthetic leaves (COPY; proofs
  read nothing else), then inclusion and consistency proofs at random positions and sizes are
  timed on one connection, beside a bare ``SELECT 1``.

Targets (issue 6): >= 300 k events/s offline, proof p99 <= 10 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import resource
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.log import merkle
from app.log.export import checkpoint_line, header_line, record_line, start_line
from app.log.notes import Checkpoint, NoteSigner, sign_checkpoint
from app.log.offline_parallel import verify_export_file
from app.log.record import CHAIN_TAG, GENESIS, build_record
from app.store.database import embedded_admin_url, with_database
from app.store.migrate import migrate
from app.store.proof_reader import consistency_proof, inclusion_proof
from bench.figures import Figure, latency, p50_p99, rate

ROOT = Path(__file__).resolve().parent.parent
ORIGIN = "bench.bloodtrace.dev/log"
EVERY = 1000
TYPES = ("UnitStored", "UnitShipped", "UnitReceived", "TestResultRecorded", "UnitReleased")


def synthetic_records(n: int, seed: int = 1) -> Iterator[bytes]:
    """Records shaped like the log's (ids, sites, times, an actor); ~450 bytes each."""
    rng = random.Random(seed)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for p in range(1, n + 1):
        unit = f"A9999{26 + p % 3}{p % 999_999:06d}-E0398V00"
        site = f"BB-{rng.choice(('DAM', 'ALP', 'HMS', 'LTK'))}-{rng.randint(1, 9):02d}"
        yield build_record(
            position=p, event_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            stream=unit, stream_version=rng.randint(1, 12), type=TYPES[p % len(TYPES)],
            schema_version=1,
            data={"unit_id": unit, "site_id": site, "location": f"fridge-{p % 7}/shelf-{p % 5}",
                  "shipment_id": f"SH-{p // 40:08d}", "temp_dc": 40 + p % 20},
            occurred_at=t0 + timedelta(seconds=p),
            recorded_at=t0 + timedelta(seconds=p, milliseconds=3),
            actor={"key_id": f"k_{p % 97:04x}", "role": "inventory", "site_id": site},
        )


def write_export(path: Path, n: int, signer: NoteSigner) -> float:
    """Write an export of n synthetic records; return hashlib's records/s over them."""
    sha, chain, tree = hashlib.sha256, GENESIS, merkle.CompactRange()
    hashing = 0.0
    batch: list[bytes] = []
    with path.open("wb") as out:
        out.write(header_line(ORIGIN, 1, n) + start_line(0, GENESIS, []))
        position = 0
        for record in synthetic_records(n):
            batch.append(record)
            if len(batch) < EVERY and position + len(batch) < n:
                continue
            started = time.perf_counter()  # the limit: hashlib alone, as in bench/limits.py
            c = chain
            for rec in batch:
                c = sha(CHAIN_TAG + c + sha(b"\x00" + rec).digest()).digest()
            hashing += time.perf_counter() - started
            lines = []
            for rec in batch:
                position += 1
                leaf = merkle.leaf_hash(rec)
                chain = hashlib.sha256(CHAIN_TAG + chain + leaf).digest()
                tree.append(leaf)
                lines.append(record_line(position, rec, leaf, chain))
            note = sign_checkpoint(Checkpoint(ORIGIN, position, tree.root(), chain), [signer])
            lines.append(checkpoint_line(position, note))
            out.write(b"".join(lines))
            batch = []
    return n / hashing


def offline_figures(n: int) -> list[Figure]:
    signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    with tempfile.TemporaryDirectory(prefix="bt-bench-") as folder:
        path = Path(folder) / "export.jsonl"
        limit = write_export(path, n, signer)
        size_mb = path.stat().st_size / 1e6
        figures = []
        for workers in sorted({1, os.cpu_count() or 1}):
            cpu = _cpu_seconds()
            started = time.perf_counter()
            report = verify_export_file(path, [signer.verifier], workers=workers)
            seconds = time.perf_counter() - started
            cpu = _cpu_seconds() - cpu
            if not report.ok or report.checked != n:
                raise RuntimeError(f"the synthetic export does not verify: {report}")
            figures.append(rate(f"offline export verification, {n:,} events ({size_mb:,.0f} MB)"
                                f", {workers} process{'es' if workers > 1 else ''}",
                                n / seconds, limit, "hashlib", 300_000))
            # CPU time is what the code costs; wall time also depends on what else runs.
            figures.append(Figure(f"  CPU per event, {workers} process"
                                  f"{'es' if workers > 1 else ''}",
                                  f"{cpu / n * 1e6:.2f} us", f"{1e6 / limit:.2f} us (hashlib)",
                                  f"{1e6 / limit / (cpu / n * 1e6):.2f}"))
    return figures


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the verifier's workers)."""
    me, children = (resource.getrusage(w) for w in (resource.RUSAGE_SELF,
                                                    resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


async def fill_nodes(con: asyncpg.Connection, n: int) -> None:
    """COPY the merkle_nodes of n synthetic leaves, 100 k leaves per round."""
    tree, rows = merkle.CompactRange(), []
    for i in range(n):
        rows += tree.append(hashlib.sha256(i.to_bytes(8, "big")).digest())
        if len(rows) >= 200_000 or i == n - 1:
            await con.copy_records_to_table("merkle_nodes", records=rows,
                                            columns=("level", "idx", "hash"))
            rows = []
    await con.execute("ANALYZE merkle_nodes")


async def proof_figures(admin_url: str, n: int, iterations: int) -> list[Figure]:
    name = f"bench_proofs_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        con = await asyncpg.connect(with_database(admin_url, name))
        try:
            await migrate(con)
            await fill_nodes(con, n)
            rng = random.Random(7)

            async def timed(call: Callable[[], Awaitable[object]]) -> list[float]:
                samples = []
                for i in range(iterations + 50):
                    started = time.perf_counter()
                    await call()
                    if i >= 50:  # warm-up: prepared statements, caches
                        samples.append((time.perf_counter() - started) * 1000)
                return samples

            floor = p50_p99(await timed(lambda: con.fetchval("SELECT 1")))[0]
            def included() -> tuple[int, int]:
                size = rng.randint(n // 2, n)
                return rng.randint(1, size), size

            inclusion = await timed(lambda: inclusion_proof(con, *included()))
            consistency = await timed(lambda: consistency_proof(
                con, rng.randint(1, n // 2), rng.randint(n // 2 + 1, n)))
        finally:
            await con.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return [latency(f"inclusion proof at {n:,} leaves", *p50_p99(inclusion), floor, 10),
            latency(f"consistency proof at {n:,} leaves", *p50_p99(consistency), floor, 10)]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_verifiable", description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=2000)
    args = parser.parse_args()
    admin_url = os.environ.get("DATABASE_URL") or embedded_admin_url(ROOT / ".data" / "bench")
    figures = offline_figures(args.events)
    figures += asyncio.run(proof_figures(admin_url, args.events, args.iterations))
    for fig in figures:
        print(" | ".join(fig.cells()))


if __name__ == "__main__":
    main()
