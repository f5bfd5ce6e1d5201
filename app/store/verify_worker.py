"""Segments of online verification checked in worker processes (``bloodtrace verify`` and
``GET /v1/audit/verify`` on a long log). Each worker opens its own connection, reads its
segment and the row before it with one binary COPY, and runs the same ``SegmentCheck`` as the
sequential pass; the parent joins the results in position order (``app.log.verify.join``).
Kept light on imports: spawned workers load only this, the pure verifier and asyncpg."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor

import asyncpg

from app.log.offline_parallel import process_context
from app.log.verify import Segment, SegmentCheck
from app.store.copy_rows import copy_log_pages


def check_segment(dsn: str, segment: Segment) -> Segment:
    """Check ``segment`` on a connection of this process's own (the worker's entry point)."""
    return asyncio.run(_check(dsn, segment))


async def _check(dsn: str, segment: Segment) -> Segment:
    con = await asyncpg.connect(dsn)
    try:
        await read_segment(con, segment)
    finally:
        await con.close()
    return segment


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


async def check_segments(dsn: str, workers: int,
                         segments: Sequence[Segment]) -> AsyncGenerator[Segment, None]:
    """Check ``segments`` on ``workers`` processes, yielding results in the order given; at
    most two per worker are in flight. Stops the rest once a result holds a fault."""
    loop = asyncio.get_running_loop()
    todo = iter(segments)
    queued: deque[Future[Segment]] = deque()
    pool = ProcessPoolExecutor(workers, mp_context=process_context())
    try:
        def submit() -> None:
            for segment in todo:
                queued.append(pool.submit(check_segment, dsn, segment))
                return

        for _ in range(2 * workers):
            submit()
        while queued:
            result = await asyncio.wrap_future(queued.popleft(), loop=loop)
            submit()
            yield result
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
