"""Online verification: stream the log, re-hash every record, recompute the chain.

Stored hashes are never trusted against each other: each leaf is recomputed from the stored
record bytes, each chain link from the recomputed leaf. Pure but for the ``LogRows`` it is
given (on PostgreSQL, ``app.store.log_reader.PgLogRows``).

The log is checked in *segments* (``SegmentCheck``): contiguous position ranges, each
starting from the chain hash stored just before it. One segment from ``start`` to the head is
the sequential check; a ``LogRows`` that can check segments elsewhere (worker processes) gets
the range cut into several, and ``join`` puts their results back together in position order.
A segment that checked out ends on a chain hash it recomputed and found stored, so the next
segment's anchor is vouched for; the first fault in position order is the verdict, with the
reason a single pass would give, and the Merkle root is settled from the segments' compact
ranges (the same join as ``app.log.offline_parallel``).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import aclosing
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from app.log.merkle import CompactRange, extend, joined
from app.log.record import CHAIN_PREFIX, GENESIS, LEAF_PREFIX

PAGE = 20_000
Row = tuple[int, bytes, bytes, bytes]
PARALLEL_MIN = 200_000
"""Below this many records, starting worker processes costs more than it saves."""
SEGMENT_MAX = 250_000
"""Records per segment at most: progress moves, and results are small and frequent."""
_POSITION = b',"position":%d,"recorded_at":'


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    checked: int
    first_bad_position: int | None
    reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Segment:
    """What one segment ``start..to`` gave: checked from ``anchor`` (the chain hash stored at
    ``start - 1``, None when that row is missing), up to ``end`` (the last position that
    checked out), ``chain`` its recomputed chain hash there, ``nodes`` the compact range of
    leaves ``[start - 1, end)`` (with ``merkle``), and the first fault if any. ``seen`` is the
    first position the segment's rows held (None: no rows), which tells a hole from a cut."""

    start: int
    to: int
    anchor: bytes | None
    merkle: bool
    end: int = 0
    chain: bytes = b""
    nodes: list[bytes] = field(default_factory=list)
    bad: tuple[int, str] | None = None
    seen: int | None = None

    def __post_init__(self) -> None:
        self.end = self.start - 1
        if self.anchor is not None:
            self.chain = self.anchor

    @property
    def checked(self) -> int:
        return self.end - self.start + 1


class SegmentCheck:
    """The hot loop, fed pages of rows in position order (rows outside ``start..to`` are
    ignored, so a reader may hand over the anchor row too)."""

    def __init__(self, segment: Segment) -> None:
        self.segment = segment

    def feed(self, page: Sequence[Row]) -> bool:
        """Check a page; False once a fault is found (feed no more)."""
        seg = self.segment
        if seg.bad is not None:
            return False
        expected, last = seg.end + 1, seg.to
        first, stop = 0, len(page)
        while first < stop and page[first][0] < expected:
            first += 1  # the anchor row
        while stop > first and page[stop - 1][0] > last:
            stop -= 1
        if first == stop:
            return expected <= last
        if seg.seen is None:
            seg.seen = page[first][0]
        leaf_hash, link_hash = LEAF_PREFIX.copy, CHAIN_PREFIX.copy
        pattern = _POSITION
        chain = seg.chain
        # The page's leaves join the Merkle compact range in one step after the loop.
        leaves: list[bytes] = []
        keep = leaves.append
        try:
            for position, record, stored_leaf, stored_chain in itertools.islice(page, first, stop):
                if position != expected:
                    seg.bad = (expected, f"position {expected} is missing")
                    return False
                if record.rfind(pattern % position) == -1:
                    seg.bad = (position, "record does not hold its position")
                    return False
                h = leaf_hash()
                h.update(record)
                leaf = h.digest()
                if leaf != stored_leaf:
                    seg.bad = (position, "record bytes do not match leaf hash")
                    return False
                h = link_hash()
                h.update(chain + leaf)
                chain = h.digest()
                if chain != stored_chain:
                    seg.bad = (position, "chain hash does not recompute")
                    return False
                keep(leaf)
                expected += 1
        finally:
            if seg.merkle:
                extend(seg.nodes, seg.start - 1, seg.end, leaves)
            seg.end, seg.chain = expected - 1, chain
        return expected <= last


@runtime_checkable
class LogRows(Protocol):
    """Where verification reads from: pages of (position, record, leaf_hash, chain_hash)."""

    def pages(self, after: int, to: int | None) -> AsyncIterator[list[Row]]: ...

    async def chain_before(self, position: int) -> bytes | None: ...

    async def head(self) -> tuple[int, bytes, bytes]: ...


@runtime_checkable
class SegmentRows(LogRows, Protocol):
    """A ``LogRows`` that checks whole segments elsewhere (worker processes), yielding each
    result in the order given, and says how many it checks at once."""

    @property
    def workers(self) -> int: ...

    def check_segments(self, segments: Sequence[Segment]) -> AsyncGenerator[Segment, None]: ...


async def _prefetched(pages: AsyncIterator[list[Row]]) -> AsyncIterator[list[Row]]:
    """Fetch the next page while the caller hashes this one."""
    iterator = aiter(pages)
    pending = asyncio.ensure_future(anext(iterator, None))
    while True:
        page = await pending
        if page is None:
            return
        pending = asyncio.ensure_future(anext(iterator, None))
        yield page


def cut(start: int, to: int, workers: int) -> list[tuple[int, int]]:
    """``start..to`` cut into at least ``2 * workers`` segments of at most SEGMENT_MAX."""
    total = to - start + 1
    count = max(2 * workers, -(-total // SEGMENT_MAX))
    bounds = [start + total * k // count for k in range(count + 1)]
    return [(a, b - 1) for a, b in itertools.pairwise(bounds) if b > a]


async def verify_log(
    rows: LogRows,
    start: int = 1,
    to: int | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    parallel_min: int = PARALLEL_MIN,
) -> VerifyReport:
    """Verify positions ``start..to`` (to the head when ``to`` is None).

    From position 1 the chain starts at genesis and the Merkle root is recomputed and compared
    with the head's. From a later position the chain starts at the stored hash just before it
    (so a range check is only as strong as that anchor; a full check trusts nothing). With a
    ``SegmentRows`` of several workers and at least ``parallel_min`` records, segments are
    checked in parallel; the report is the one the sequential check gives.
    """
    head_position, head_chain, head_range = await rows.head()
    # Verify up to the head seen now: appends committed meanwhile belong to the next check.
    to = head_position if to is None else min(to, head_position)
    if start <= 1:
        start, anchor = 1, GENESIS
    else:
        found = await rows.chain_before(start)
        if found is None:
            return VerifyReport(False, 0, start - 1, "missing record before the range")
        anchor = found
    full = start == 1
    if isinstance(rows, SegmentRows) and rows.workers > 1 and to - start + 1 >= parallel_min:
        segments = [Segment(a, b, anchor if a == start else None, full)
                    for a, b in cut(start, to, rows.workers)]
        results = rows.check_segments(segments)
    else:
        results = _sequential(rows, Segment(start, to, anchor, full), progress)
    async with aclosing(results):  # a fault ends the check: stop the workers now
        return await join(results, start, to, head_position, head_chain, head_range, progress)


async def _sequential(rows: LogRows, segment: Segment,
                      progress: Callable[[int], None] | None) -> AsyncGenerator[Segment, None]:
    check = SegmentCheck(segment)
    async for page in _prefetched(rows.pages(segment.start - 1, segment.to)):
        going = check.feed(page)
        if progress is not None:
            progress(segment.checked)
        if not going:
            break
    yield segment


async def join(results: AsyncIterator[Segment], start: int, to: int, head_position: int,
               head_chain: bytes, head_range: bytes,
               progress: Callable[[int], None] | None = None) -> VerifyReport:
    """The verdict from segments covering ``start..to`` in order: the first fault wins."""
    tree, chain, checked = CompactRange(), b"", 0
    short: Segment | None = None
    async for seg in results:
        if short is not None:
            if seg.seen is not None:  # a later row exists: the short segment has a hole
                return VerifyReport(False, checked, short.end + 1,
                                    f"position {short.end + 1} is missing")
            continue
        if seg.start > start and seg.anchor != chain:
            # The segment before recomputed this chain hash and found it stored; a different
            # anchor means the row changed between the two reads.
            return VerifyReport(False, checked, seg.start - 1, "chain hash does not recompute")
        checked += seg.checked
        if progress is not None:
            progress(checked)
        if seg.bad is not None:
            return VerifyReport(False, checked, *seg.bad)
        chain = seg.chain
        if seg.merkle:
            tree = joined(tree, seg.start - 1, seg.end, seg.nodes)
        if seg.end < seg.to:
            short = seg
    if short is not None or checked < to - start + 1:
        last = start - 1 + checked
        return VerifyReport(False, checked, last + 1, f"log ends at {last}, head says {to}")
    last = start - 1 + checked
    if to == head_position:
        if chain != head_chain:
            return VerifyReport(False, checked, last, "head chain hash does not match the log")
        if start == 1 and tree.root() != CompactRange.from_bytes(head_range).root():
            return VerifyReport(False, checked, last, "Merkle root does not match the head")
    return VerifyReport(True, checked, None, None)
