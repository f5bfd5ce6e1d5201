"""The one serialised writer of the log, with asyncio group commit.

Concurrent ``append`` calls queue up; one task takes everything queued (up to ``batch_max``)
into a single transaction (``app.store.batch``). The transaction first locks the ``log_head``
row, so across processes exactly one writer assigns positions at a time and commits before
the next one reads the head: positions are dense and commit order equals position order,
which is what lets a reader follow ``WHERE position > cursor`` without ever skipping an event.
This module is the queue: it settles each caller's future with its outcome.

While commands keep coming, the writer keeps its connection from one transaction to the next
and gives it back to the pool only when the queue runs dry or a transaction fails: handing it
back costs a reset round trip, which would otherwise sit between every commit and the answers
it settles.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

import asyncpg

from app.errors import DomainError, Unavailable
from app.events.messages import Command
from app.store.append import EVENT_COLUMNS
from app.store.batch import AppendResult, Batch, InlineApplier, Outcome, Submitted
from app.store.errors import CommitOutcomeUnknown, StoreUnavailable, map_driver_errors
from app.store.world import Domain

__all__ = ["EVENT_COLUMNS", "AppendResult", "InlineApplier", "Writer"]

log = logging.getLogger(__name__)

BatchObserver = Callable[[int, int, float], None]
"""Called after each commit with (commands, events, seconds waited for the head lock)."""

ACQUIRE_TIMEOUT_S = 10.0
_Pending = tuple[Submitted, "asyncio.Future[AppendResult]"]


class Writer:
    """Appends commands to the log through the domain's ``decide``."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        domain: Domain,
        *,
        batch_max: int = 500,
        inline: Sequence[InlineApplier] = (),
        observer: BatchObserver | None = None,
    ) -> None:
        self._pool = pool
        self._domain = domain
        self._batch_max = batch_max
        self._inline = tuple(inline)
        self._observers: list[BatchObserver] = [observer] if observer is not None else []
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._held: asyncpg.pool.PoolConnectionProxy | None = None

    def add_observer(self, observer: BatchObserver) -> None:
        """Call ``observer(commands, events, lock_wait_seconds)`` after every commit."""
        self._observers.append(observer)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="bloodtrace-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._give_back()

    async def append(self, cmd: Command, content: bytes) -> AppendResult:
        """Record one command; raises its DomainError when refused."""
        return await self._submit(cmd, content)

    async def append_many(self, items: Sequence[tuple[Command, bytes]]) -> list[Outcome]:
        """Record many commands, each accepted or refused on its own, in order."""
        futures = [self._submit(cmd, content) for cmd, content in items]
        outcomes: list[Outcome] = []
        for fut in futures:
            try:
                outcomes.append(await fut)
            except DomainError as err:
                outcomes.append(err)
        return outcomes

    def _submit(self, cmd: Command, content: bytes) -> asyncio.Future[AppendResult]:
        if self._task is None or self._task.done():
            raise Unavailable("the writer is not running")
        fut: asyncio.Future[AppendResult] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((Submitted(cmd, content), fut))
        return fut

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch_max and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._commit_or_split(batch)
            if self._queue.empty():
                await self._give_back()

    async def _commit_or_split(self, batch: list[_Pending]) -> None:
        try:
            outcomes = await self._commit([s for s, _ in batch])
        except StoreUnavailable as err:
            for _, fut in batch:
                _settle(fut, err)
            return
        except Exception as exc:
            if len(batch) > 1:
                # An unexpected database error must not fail the batch-mates: retry alone.
                log.warning("batch of %d failed (%r); retrying one by one", len(batch), exc)
                for pending in batch:
                    await self._commit_or_split([pending])
                return
            log.exception("append failed")
            _settle(batch[0][1], exc)
            return
        for (_, fut), outcome in zip(batch, outcomes, strict=True):
            _settle(fut, outcome)

    async def _commit(self, batch: list[Submitted]) -> list[Outcome]:
        # A failure before COMMIT is sent leaves nothing behind (a plain 503: retry). Once it
        # is sent, losing the connection says nothing about the outcome: the commit may hold
        # on the primary and its synchronous standby, so a failover keeps it. Replays commit
        # too (the head lock takes a transaction id), so a replayed answer also waits for the
        # standby to hold what it reports.
        committing = False
        try:
            async with map_driver_errors():
                con = await self._connection()
                async with con.transaction():
                    outcomes, report = await Batch(con, self._domain, self._inline).run(batch)
                    committing = True
        except BaseException as exc:
            # The pool resets the connection, or drops it when it cannot.
            await self._give_back()
            if isinstance(exc, StoreUnavailable) and committing:
                raise CommitOutcomeUnknown() from exc.__cause__
            raise
        for observe in self._observers:
            observe(report.commands, report.events, report.lock_wait_s)
        return outcomes

    async def _connection(self) -> asyncpg.pool.PoolConnectionProxy:
        """The connection kept since the last transaction, or a fresh one from the pool."""
        if self._held is not None and self._held.is_closed():
            await self._give_back()
        if self._held is None:
            self._held = await self._pool.acquire(timeout=ACQUIRE_TIMEOUT_S)
        return self._held

    async def _give_back(self) -> None:
        con, self._held = self._held, None
        if con is None:
            return
        try:
            await self._pool.release(con)
        except Exception as exc:  # the pool has terminated it; nothing else holds it
            log.debug("writer connection dropped on release: %r", exc)


def _settle(fut: asyncio.Future[AppendResult], outcome: AppendResult | BaseException) -> None:
    if fut.done():
        return
    if isinstance(outcome, BaseException):
        fut.set_exception(outcome)
    else:
        fut.set_result(outcome)
