"""Segments of online verification checked in worker processes (``bloodtrace verify`` and
``GET /v1/audit/verify`` on a long log). Each worker opens its own connection for each
segment it is given, reads it and the row before it with one binary COPY, and runs the same
``SegmentCheck`` as the sequential pass; the parent joins the results in position order
(``app.log.verify.join``).

A worker is ``python -m app.store.verify_worker DSN``, talking over its stdin and stdout, rather
than a ``multiprocessing`` child: the parent (a server or the bench) usually runs threads, so
multiprocessing would have to *spawn*, and a spawned child re-imports the parent's main module
(the whole service, some 0.7-1 s of CPU per worker) before it checks a row. This module and what
it imports (the pure verifier, asyncpg) load in a fraction of that, once per worker. Messages are length-prefixed pickles of ``Segment``
(both ends are this module, of the same tree).
"""

from __future__ import annotations

import asyncio
import os
import pickle
import struct
import sys
from collections.abc import AsyncGenerator, Sequence
from pathlib import Path
from typing import IO, Any

import asyncpg

import app
from app.log.verify import Segment, SegmentCheck
from app.store.copy_rows import copy_log_pages

_LENGTH = struct.Struct(">I")


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


def _frame(value: Any) -> bytes:
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(body)) + body


def _read_frame(stream: IO[bytes]) -> Any:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    return pickle.loads(stream.read(_LENGTH.unpack(head)[0]))


async def _serve() -> None:
    """The worker: read the DSN (never on the command line, which ``ps`` shows), then check
    each segment read from stdin and write each result (the segment, or the exception that
    stopped it) to what was stdout, until stdin closes. Anything else printed goes to stderr."""
    inbox = sys.stdin.buffer
    outbox = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    dsn = _read_frame(inbox)
    while (segment := _read_frame(inbox)) is not None:
        try:
            await _check(dsn, segment)
            reply: tuple[str, Any] = ("ok", segment)
        except Exception as exc:  # the parent raises it, as the sequential pass would
            reply = ("error", exc)
        try:
            out = _frame(reply)
        except Exception as exc:  # an exception that does not pickle
            out = _frame(("error", RuntimeError(f"verification worker: {exc!r}")))
        outbox.write(out)
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
        root = str(Path(app.__file__).resolve().parent.parent)
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", __name__, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, env=os.environ | {"PYTHONPATH": path})
        worker = cls(process)
        worker.send(dsn)
        return worker

    def send(self, message: Segment | str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(_frame(message))

    async def receive(self) -> Segment:
        assert self.process.stdout is not None
        try:
            head = await self.process.stdout.readexactly(_LENGTH.size)
            body = await self.process.stdout.readexactly(_LENGTH.unpack(head)[0])
        except asyncio.IncompleteReadError:
            code = await self.process.wait()
            raise RuntimeError(f"a verification worker exited with status {code}") from None
        kind, value = pickle.loads(body)
        if kind == "error":
            raise value
        assert isinstance(value, Segment)
        return value

    async def stop(self, finished: bool) -> None:
        """Close its input (it exits once done); one stopped early is killed."""
        process = self.process
        if process.returncode is None and not finished:
            process.kill()
        if process.stdin is not None and not process.stdin.is_closing():
            process.stdin.close()
        await process.wait()


async def check_segments(dsn: str, workers: int,
                         segments: Sequence[Segment]) -> AsyncGenerator[Segment, None]:
    """Check ``segments`` on ``workers`` processes, yielding results in the order given; at
    most two per worker are in flight. Stops the rest once a result holds a fault (the caller
    closes this generator)."""
    count = max(1, min(workers, len(segments)))
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
