"""Online verification: stream the log, re-hash every record, recompute the chain.

Stored hashes are never trusted against each other: each leaf is recomputed from the stored
record bytes, each chain link from the recomputed leaf. Rows are read in fixed-size pages, so
memory stays constant however long the log is. Pure but for the ``LogRows`` it is given (on
PostgreSQL, ``app.store.log_reader.PgLogRows``).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from app.log.merkle import CompactRange
from app.log.record import CHAIN_TAG, GENESIS

PAGE = 20_000
Row = tuple[int, bytes, bytes, bytes]


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    checked: int
    first_bad_position: int | None
    reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class LogRows(Protocol):
    """Where verification reads from: pages of (position, record, leaf_hash, chain_hash)."""

    def pages(self, after: int, to: int | None) -> AsyncIterator[list[Row]]: ...

    async def chain_before(self, position: int) -> bytes | None: ...

    async def head(self) -> tuple[int, bytes, bytes]: ...


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


async def verify_log(
    rows: LogRows,
    start: int = 1,
    to: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Verify positions ``start..to`` (to the head when ``to`` is None).

    From position 1 the chain starts at genesis and the Merkle root is recomputed and compared
    with the head's. From a later position the chain starts at the stored hash just before it
    (so a range check is only as strong as that anchor; a full check trusts nothing).
    """
    sha = hashlib.sha256
    head_position, head_chain, head_range = await rows.head()
    # Verify up to the head seen now: appends committed meanwhile belong to the next check.
    to = head_position if to is None else min(to, head_position)
    if start <= 1:
        start, chain = 1, GENESIS
    else:
        anchor = await rows.chain_before(start)
        if anchor is None:
            return VerifyReport(False, 0, start - 1, "missing record before the range")
        chain = anchor
    full = start == 1
    # The Merkle root is recomputed with a bare compact-range stack: the hot loop must not
    # allocate the node list that CompactRange.append returns for the writer.
    stack: list[bytes] = []
    expected = start
    checked = 0
    async for page in _prefetched(rows.pages(start - 1, to)):
        for position, record, stored_leaf, stored_chain in page:
            if position != expected:
                return VerifyReport(False, checked, expected, f"position {expected} is missing")
            if record.rfind(b',"position":%d,"recorded_at":' % position) == -1:
                return VerifyReport(False, checked, position, "record does not hold its position")
            leaf = sha(b"\x00" + record).digest()
            if leaf != stored_leaf:
                return VerifyReport(False, checked, position, "record bytes do not match leaf hash")
            chain = sha(CHAIN_TAG + chain + leaf).digest()
            if chain != stored_chain:
                return VerifyReport(False, checked, position, "chain hash does not recompute")
            if full:
                index, node = expected - 1, leaf
                while index & 1:
                    node = sha(b"\x01" + stack.pop() + node).digest()
                    index >>= 1
                stack.append(node)
            expected += 1
            checked += 1
        if progress is not None:
            progress(checked)
    last = expected - 1
    if last < to:
        return VerifyReport(False, checked, last + 1, f"log ends at {last}, head says {to}")
    if to == head_position:
        if chain != head_chain:
            return VerifyReport(False, checked, last, "head chain hash does not match the log")
        if full and CompactRange(last, stack).root() != CompactRange.from_bytes(head_range).root():
            return VerifyReport(False, checked, last, "Merkle root does not match the head")
    return VerifyReport(True, checked, None, None)
