"""Offline verification of an export file on every core, pure (no database, no server).

The file is cut at line boundaries into slices, and each slice is verified in its own process by
the same hot loop as ``verify_export``, starting from the position and chain hash that the last
record line before the slice states. The parent joins the slices in file order: a slice whose
predecessor verified without fault starts exactly where that predecessor ended (it checked that
stated chain hash against the recomputed one), and the slices' Merkle compact ranges are merged
to settle each checkpoint's root. The first fault in file order is the verdict, so the report is
the one a single process would give. Slices are at most 64 MB and only a few are in flight,
so memory stays bounded however long the export.
"""

from __future__ import annotations

import binascii
import itertools
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from app.log.merkle import CompactRange, joined
from app.log.notes import VerifierKey
from app.log.offline import ExportReport, Fault, Pending, Progress, Verification

MIN_PARALLEL_BYTES = 32 << 20
"""Below this (some 50,000 records), starting processes costs more than it saves."""
SLICE_BYTES = 64 << 20
"""The work of one task: results wait in memory for a few slices at most."""
BLOCK = 1 << 20
_counters: Any = None


@dataclass(frozen=True, slots=True)
class _Slice:
    start: int
    end: int
    anchor: tuple[int, bytes]


@dataclass(frozen=True, slots=True)
class _Result:
    anchor: tuple[int, bytes]
    size: int
    chain: bytes
    nodes: list[bytes]
    pending: list[Pending]
    bad: tuple[int | None, str, int | None] | None


def verify_export_file(
    path: Path, keys: Sequence[VerifierKey], *, progress: Progress | None = None,
    min_size: int = 0, workers: int | None = None,
) -> ExportReport:
    """Verify the export in ``path`` against the pinned ``keys``, on ``workers`` processes
    (default: every core; one for small files). Same verdict as ``verify_export``."""
    total = path.stat().st_size
    workers = workers or os.cpu_count() or 1
    run = Verification(keys, min_size)
    try:
        with path.open("rb", buffering=BLOCK) as file:
            body = _head(file, run)
            if workers < 2 or total - body < MIN_PARALLEL_BYTES:
                file.seek(body)
                run.feed(file, progress)
                return run.finish()
            slices = _cut(file, body, total, workers, (run.size, run.chain))
        _join(run, path, slices, workers, progress)
        return run.finish()
    except Fault as bad:
        return run.report(False, bad)


def _lines(file: IO[bytes], start: int, end: int) -> Iterator[bytes]:
    """The lines in bytes ``[start, end)``, both line boundaries."""
    file.seek(start)
    left = end - start
    while left > 0:
        # readlines stops once its lines exceed the hint; ``end`` is a line end, so a hint
        # one byte short of it stops exactly there.
        hint = min(BLOCK, left - 1)
        lines = file.readlines(hint) if hint > 0 else [file.readline()]
        if not lines or not lines[0]:
            return
        left -= sum(map(len, lines))
        yield from lines


def _head(file: IO[bytes], run: Verification) -> int:
    """Feed the lines before the first record (header, keys, start); return where it starts."""
    while True:
        offset = file.tell()
        line = file.readline()
        if not line:
            return offset
        try:
            kind = orjson.loads(line).get("kind")
        except (orjson.JSONDecodeError, AttributeError):
            kind = None
        if kind == "record" and run.started:
            return offset
        run.feed([line], None)


def _anchor(file: IO[bytes], cut: int, floor: int) -> tuple[int, bytes] | None:
    """(position, stated chain hash) of the last record line that ends before ``cut``."""
    window = 1 << 16
    while True:
        start = max(floor, cut - window)
        file.seek(start)
        lines = file.read(cut - start).split(b"\n")
        for line in reversed(lines[1:] if start > floor else lines):
            try:
                obj = orjson.loads(line)
                if obj["kind"] == "record":
                    return obj["position"], binascii.a2b_base64(obj["chain_hash"])
            except (orjson.JSONDecodeError, KeyError, TypeError, binascii.Error):
                continue  # a broken line: the slice that holds it reports it first
        if start == floor:
            return None
        window *= 4


def _cut(file: IO[bytes], body: int, total: int, workers: int,
         opening: tuple[int, bytes]) -> list[_Slice]:
    count = max(workers, -(-(total - body) // SLICE_BYTES))
    bounds = [body]
    for k in range(1, count):
        file.seek(body + (total - body) * k // count)
        file.readline()
        if bounds[-1] < file.tell() < total:
            bounds.append(file.tell())
    bounds.append(total)
    slices = []
    for start, end in itertools.pairwise(bounds):
        anchor = _anchor(file, start, body) if start > body else None
        slices.append(_Slice(start, end, anchor or opening))
    return slices


def _join(run: Verification, path: Path, slices: list[_Slice], workers: int,
          progress: Progress | None) -> None:
    """Verify the slices on ``workers`` processes and join them in order. At most two slices
    per worker are in flight, so memory stays bounded however long the export."""
    header = run.header
    assert header is not None
    context = process_context()
    counters = context.Array("q", len(slices), lock=False)
    vkeys, opening = [str(k) for k in run.keys], run.size
    tree, chain = CompactRange(run.size, list(run.hashes)), run.chain
    queued: deque[Future[_Result]] = deque()
    todo = iter(enumerate(slices))
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init,
                               initargs=(counters,))
    try:
        def submit() -> None:
            for k, piece in itertools.islice(todo, 1):
                queued.append(pool.submit(_verify_slice, str(path), piece, header, vkeys,
                                          run.listed, k))

        for _ in range(2 * workers):
            submit()
        while queued:
            future = queued.popleft()
            while not wait([future], timeout=0.25).done:
                if progress is not None:
                    progress(opening + sum(counters))
            result = future.result()
            submit()
            if result.anchor != (tree.size, chain):
                raise Fault(tree.size + 1, f"the line after record {tree.size} breaks the export")
            for pending in result.pending:
                run.settle(pending, joined(tree, result.anchor[0], pending.size,
                                            pending.nodes).root())
            run.size = result.size
            if result.bad is not None:
                raise Fault(*result.bad)
            tree, chain = joined(tree, result.anchor[0], result.size, result.nodes), result.chain
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    run.size, run.chain = tree.size, chain
    if progress is not None:
        progress(run.size)


def process_context() -> multiprocessing.context.BaseContext:
    """Fork (instant, shares the imports) when this process runs no other thread, whose locks
    a child could inherit held; otherwise spawn fresh interpreters."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _init(counters: Any) -> None:
    global _counters
    _counters = counters


def _verify_slice(path: str, piece: _Slice, header: dict[str, Any], vkeys: list[str],
                  listed: dict[tuple[str, str], str], slot: int) -> _Result:
    run = Verification([VerifierKey.parse(v) for v in vkeys], header=header, segment=piece.anchor)
    run.listed = listed

    def report(position: int) -> None:
        _counters[slot] = position - piece.anchor[0]

    bad = None
    with open(path, "rb", buffering=BLOCK) as file:
        try:
            run.feed(_lines(file, piece.start, piece.end), report)
        except Fault as exc:
            bad = (exc.position, exc.reason, exc.checkpoint)
    assert run.pending is not None
    return _Result(piece.anchor, run.size, run.chain, run.hashes, run.pending, bad)
