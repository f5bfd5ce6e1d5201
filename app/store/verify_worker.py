"""Segments of online verification checked in worker processes (``bloodtrace verify`` and
``GET /v1/audit/verify`` on a long log). Each worker opens its own connection for each
segment it is given, reads it and the row before it with one binary COPY, and runs the same
``SegmentCheck`` as the sequential pass; the parent joins the results in position order
(``app.log.verify.join``).

Unless this process may fork, a worker is ``python -m app.store.verify_worker``, talking JSON
lines over its stdin and stdout, rather than a ``multiprocessing`` child: the parent (a server,
the CLI's progress bar, the bench) usually runs threads, so multiprocessing would *spawn*, and
a spawned child re-imports the parent's main module (the whole service: some 0.7-1 s of CPU
per worker) before it checks a row. This module and what it imports (the pure verifier,
asyncpg) load in a fraction of that.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import AsyncGenerator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import asyncpg
import orjson

import app
from app.log.offline_parallel import process_context
from app.log.verify import Segment, SegmentCheck
from app.store.copy_rows import copy_log_pages
from app.store.errors import is_unavailable

_ROOT = str(Path(app.__file__).resolve().parent.parent)


async def read_segment(con: asyncpg.Connection, segment: Segment) -> None:
    """Feed ``segment`` its rows; an anchor it lacks is the chain hash stored before it."""
    check = SegmentCheck(segment)
    pages = copy_log_pages(con, segment.start - 1, segment.to)
    try:
        async for page in pages:
            if segment.anchor is None and segment.end == segment.start - 1 and page:
                position, _, _, chain = page[0]
                if position != segment.start - 1:
                    # No row before the segment: the one before it reports the hole, once
                    # it knows that rows follow.
                    segment.seen = position
                    return
                segment.anchor = segment.chain = chain
            if segment.anchor is None or not check.feed(page):
                return
    finally:
        await pages.aclose()


def _hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


def _unhex(value: str | None) -> bytes | None:
    return None if value is None else bytes.fromhex(value)


def dump(segment: Segment) -> bytes:
    """A segment as one JSON line."""
    return orjson.dumps({
        "start": segment.start, "to": segment.to, "anchor": _hex(segment.anchor),
        "merkle": segment.merkle, "end": segment.end, "chain": segment.chain.hex(),
        "nodes": [n.hex() for n in segment.nodes], "bad": segment.bad, "seen": segment.seen,
    }) + b"\n"


def load(line: bytes) -> Segment:
    """``dump``'s segment back; a worker's failure (``_serve``) raised as it was sent:
    ``ConnectionError`` when the database could not be reached, else ``RuntimeError``."""
    fields = orjson.loads(line)
    if "error" in fields:
        raise (ConnectionError if fields["unavailable"] else RuntimeError)(fields["error"])
    segment = Segment(fields["start"], fields["to"], _unhex(fields["anchor"]), fields["merkle"])
    segment.end, segment.chain = fields["end"], bytes.fromhex(fields["chain"])
    segment.nodes = [bytes.fromhex(n) for n in fields["nodes"]]
    bad = fields["bad"]
    segment.bad = None if bad is None else (bad[0], bad[1])
    segment.seen = fields["seen"]
    return segment


async def _serve() -> None:
    """The worker: read the DSN (never on the command line, which ``ps`` shows), then check
    each segment read from stdin and write each result to what was stdout, until stdin
    closes (anything else printed goes to stderr). A failure is sent as its message, marked
    ``unavailable`` when it means the database cannot be reached."""
    inbox = sys.stdin.buffer
    outbox = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    dsn = inbox.readline().decode().rstrip("\n")
    while line := inbox.readline():
        segment = load(line)
        try:
            await _check(dsn, segment)
            reply = dump(segment)
        except Exception as exc:  # the parent raises it, as the sequential pass would
            reply = orjson.dumps({"error": f"verification worker: {exc!r}",
                                  "unavailable": is_unavailable(exc)}) + b"\n"
        outbox.write(reply)
        outbox.flush()


async def _check(dsn: str, segment: Segment) -> None:
    # A connection per segment: one that stops early abandons its COPY midway.
    con = await asyncpg.connect(dsn)
    try:
        await read_segment(con, segment)
    finally:
        await con.close()


class _Worker:
    """One worker process, as the parent sees it."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, dsn: str) -> _Worker:
        # The worker imports the very ``app`` package this process runs.
        path = os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH")) if p)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", __name__, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, env=os.environ | {"PYTHONPATH": path})
        assert process.stdin is not None
        process.stdin.write(dsn.encode() + b"\n")
        return cls(process)

    def send(self, segment: Segment) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(dump(segment))

    async def receive(self) -> Segment:
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        if not line:
            code = await self.process.wait()
            raise RuntimeError(f"a verification worker exited with status {code}")
        return load(line)

    async def stop(self, finished: bool) -> None:
        """Close its input (it exits once done); one stopped early is killed."""
        process = self.process
        if process.returncode is None and not finished:
            process.kill()
        if process.stdin is not None and not process.stdin.is_closing():
            process.stdin.close()
        await process.wait()


def check_segments(dsn: str, workers: int,
                   segments: Sequence[Segment]) -> AsyncGenerator[Segment, None]:
    """Check ``segments`` on ``workers`` processes, yielding results in the order given; at
    most two per worker are in flight. Stops the rest once a result holds a fault (the caller
    closes the generator). When this process may fork (``process_context``: it runs no other
    thread), the workers are forked children, which cost nothing to start; otherwise they are
    ``python -m`` processes (see above)."""
    count = max(1, min(workers, len(segments)))
    context = process_context()
    if context.get_start_method() == "fork":
        return _forked(dsn, count, segments, context)
    return _started(dsn, count, segments)


def check_segment(dsn: str, segment: Segment) -> Segment:
    """Check ``segment`` in this (forked) process: the entry point of ``_forked``."""
    asyncio.run(_check(dsn, segment))
    return segment


async def _forked(dsn: str, count: int, segments: Sequence[Segment],
                  context: multiprocessing.context.BaseContext
                  ) -> AsyncGenerator[Segment, None]:
    loop = asyncio.get_running_loop()
    todo = iter(segments)
    queued: deque[Future[Segment]] = deque()
    pool = ProcessPoolExecutor(count, mp_context=context)
    try:
        def submit() -> None:
            for segment in todo:
                queued.append(pool.submit(check_segment, dsn, segment))
                return

        for _ in range(2 * count):
            submit()
        while queued:
            result = await asyncio.wrap_future(queued.popleft(), loop=loop)
            submit()
            yield result
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


async def _started(dsn: str, count: int,
                   segments: Sequence[Segment]) -> AsyncGenerator[Segment, None]:
    started = await asyncio.gather(*(_Worker.start(dsn) for _ in range(count)),
                                   return_exceptions=True)
    pool = [w for w in started if isinstance(w, _Worker)]
    finished = False
    try:
        for failure in started:
            if isinstance(failure, BaseException):
                raise failure
        # Segment k goes to worker k % count, which answers in the order it was asked.
        for k, segment in enumerate(segments[:2 * count]):
            pool[k % count].send(segment)
        for k in range(len(segments)):
            worker = pool[k % count]
            result = await worker.receive()
            if k + 2 * count < len(segments):
                worker.send(segments[k + 2 * count])
            yield result
        finished = True
    finally:
        await asyncio.gather(*(w.stop(finished) for w in pool), return_exceptions=True)


if __name__ == "__main__":
    asyncio.run(_serve())
