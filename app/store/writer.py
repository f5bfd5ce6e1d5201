"""The one serialised writer of the log, with asyncio group commit.

Concurrent ``append`` calls queue up; one task takes everything queued (up to ``batch_max``)
into a single transaction. The transaction first locks the ``log_head`` row, so across
processes exactly one writer assigns positions at a time and commits before the next one reads
the head: positions are dense and commit order equals position order, which is what lets a
reader follow ``WHERE position > cursor`` without ever skipping an event.

Inside the batch each command is decided against the state as updated by the commands before
it. A refused command fails alone; its batch-mates commit.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from app.errors import DomainError, IdempotencyConflict, Unavailable, WrongExpectedVersion
from app.events.messages import Command, NewEvent, StateNotLoaded, StoredEvent
from app.log.merkle import CompactRange
from app.log.record import build_record, canonical_json, chain_hash, leaf_hash
from app.store.conn import Conn
from app.store.errors import is_unavailable
from app.store.world import BatchWorld, Domain

log = logging.getLogger(__name__)

InlineApplier = Callable[[Conn, Sequence[StoredEvent]], Awaitable[None]]
BatchObserver = Callable[[int, int, float], None]
"""Called after each commit with (commands, events, seconds waited for the head lock)."""

MAX_LOAD_ROUNDS = 32
ACQUIRE_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class AppendResult:
    """Where the event asked for landed. ``replayed``: an idempotent retry of an earlier one."""

    position: int
    event_id: UUID
    stream: str
    stream_version: int
    chain_hash: bytes
    replayed: bool = False
    derived: tuple[int, ...] = ()


@dataclass(slots=True)
class _Accepted:
    """A command decided and applied to the batch's world, waiting for its positions."""

    cmd: Command
    content_hash: bytes
    events: list[NewEvent]
    result: AppendResult | None = None


@dataclass(slots=True)
class _Pending:
    cmd: Command
    content_hash: bytes
    future: asyncio.Future[AppendResult]


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

    async def append(self, cmd: Command, content: bytes) -> AppendResult:
        """Record one command; raises its DomainError when refused."""
        return await self._submit(cmd, content)

    async def append_many(
        self, items: Sequence[tuple[Command, bytes]]
    ) -> list[AppendResult | DomainError]:
        """Record many commands, each accepted or refused on its own, in order."""
        futures = [self._submit(cmd, content) for cmd, content in items]
        outcomes: list[AppendResult | DomainError] = []
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
        self._queue.put_nowait(_Pending(cmd, content, fut))
        return fut

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch_max and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._commit_or_split(batch)

    async def _commit_or_split(self, batch: list[_Pending]) -> None:
        try:
            outcomes = await self._commit(batch)
        except Exception as exc:
            if is_unavailable(exc):
                err = Unavailable(f"the database is unreachable: {type(exc).__name__}")
                for p in batch:
                    _settle(p, err)
                return
            if len(batch) > 1:
                # An unexpected database error must not fail the batch-mates: retry alone.
                log.warning("batch of %d failed (%r); retrying one by one", len(batch), exc)
                for p in batch:
                    await self._commit_or_split([p])
                return
            log.exception("append failed")
            _settle(batch[0], exc)
            return
        for p, outcome in zip(batch, outcomes, strict=True):
            _settle(p, outcome)

    async def _commit(self, batch: list[_Pending]) -> list[AppendResult | DomainError]:
        async with self._pool.acquire(timeout=ACQUIRE_TIMEOUT_S) as con, con.transaction():
            return await _Batch(con, self._domain, self._inline, self._observers).run(batch)


def _settle(p: _Pending, outcome: AppendResult | BaseException) -> None:
    if p.future.done():
        return
    if isinstance(outcome, BaseException):
        p.future.set_exception(outcome)
    else:
        p.future.set_result(outcome)


class _Batch:
    """One transaction's worth of commands, under the head-row lock."""

    def __init__(
        self,
        con: Conn,
        domain: Domain,
        inline: Sequence[InlineApplier],
        observers: Sequence[BatchObserver],
    ) -> None:
        self.con = con
        self.domain = domain
        self.inline = inline
        self.observers = observers
        self.world = BatchWorld(domain)
        self.versions: dict[str, int] = {}
        self.stored: list[StoredEvent] = []
        self.rows: list[tuple[Any, ...]] = []
        self.refs: list[tuple[str, str, int]] = []
        self.nodes: list[tuple[int, int, bytes]] = []
        self.seen: dict[UUID, tuple[bytes, AppendResult | _Accepted]] = {}
        self.pending_streams: dict[str, int] = {}

    async def run(self, batch: list[_Pending]) -> list[AppendResult | DomainError]:
        con = self.con
        started = time.perf_counter()
        head = await con.fetchrow(
            "SELECT position, chain_hash, compact_range FROM log_head WHERE id = 1 FOR UPDATE"
        )
        waited = time.perf_counter() - started
        assert head is not None, "log_head row missing: run migrations"
        self.position: int = head["position"]
        self.chain: bytes = head["chain_hash"]
        self.tree = CompactRange.from_bytes(head["compact_range"])
        await self._load_existing([p.cmd.event_id for p in batch])
        needs = [need for p in batch for need in self.domain.keys_needed(p.cmd)]
        await self.world.load(con, (key for key, deep in needs if not deep))
        await self.world.load_closure(con, (key for key, deep in needs if deep))

        decided = [await self._one(p) for p in batch]
        accepted = [d for d in decided if isinstance(d, _Accepted)]
        await self._load_versions(list({e.stream: None for a in accepted for e in a.events}))
        outcomes: list[AppendResult | DomainError] = []
        for item in decided:
            if isinstance(item, _Accepted):
                if item.result is None:
                    item.result = self._append(item)
                outcomes.append(item.result)
            else:
                outcomes.append(item)
        if self.stored:
            await self._write()
        for observe in self.observers:
            observe(len(batch), len(self.stored), waited)
        return outcomes

    async def _load_existing(self, ids: list[UUID]) -> None:
        rows = await self.con.fetch(
            """SELECT event_id, content_hash, position, stream, stream_version, chain_hash
                 FROM events WHERE event_id = ANY($1::uuid[])""",
            ids,
        )
        for r in rows:
            result = AppendResult(
                r["position"], r["event_id"], r["stream"], r["stream_version"],
                r["chain_hash"], replayed=True,
            )
            self.seen[r["event_id"]] = (r["content_hash"], result)

    async def _one(self, p: _Pending) -> _Accepted | AppendResult | DomainError:
        cmd = p.cmd
        if cmd.event_id in self.seen:
            digest, earlier = self.seen[cmd.event_id]
            if digest != p.content_hash:
                position = earlier.position if isinstance(earlier, AppendResult) else None
                return IdempotencyConflict(
                    f"event_id {cmd.event_id} was already recorded with other content",
                    field="event_id", position=position,
                )
            if isinstance(earlier, AppendResult):
                return AppendResult(
                    earlier.position, earlier.event_id, earlier.stream, earlier.stream_version,
                    earlier.chain_hash, replayed=True, derived=earlier.derived,
                )
            return earlier  # the same command twice in one batch: one append, two answers
        try:
            events = await self._decide(cmd)
            if cmd.expected_version is not None:
                await self._check_version(cmd, events[0].stream)
            for event in events:
                self.world.stage(self.domain.evolve(self.world, event))
        except DomainError as err:
            self.world.discard()
            return err
        self.world.accept()
        accepted = _Accepted(cmd, p.content_hash, events)
        self.seen[cmd.event_id] = (p.content_hash, accepted)
        for event in events:
            # Later commands of the batch may touch these streams; count their versions now.
            self.pending_streams[event.stream] = self.pending_streams.get(event.stream, 0) + 1
        return accepted

    async def _decide(self, cmd: Command) -> list[NewEvent]:
        for _ in range(MAX_LOAD_ROUNDS):
            try:
                events = self.domain.decide(self.world, cmd)
            except StateNotLoaded as missing:
                # Not prefetched: take the key and its whole lineage, a level per query.
                self.world.discard()
                await self.world.load_closure(self.con, [missing.key])
                continue
            if not events:
                raise RuntimeError(f"decide returned no event for {cmd.type}")
            return events
        raise RuntimeError(f"decide for {cmd.type} kept asking for more state")

    async def _load_versions(self, streams: list[str]) -> None:
        unknown = [s for s in streams if s not in self.versions]
        if not unknown:
            return
        rows = await self.con.fetch(
            """SELECT s.stream, coalesce(max(e.stream_version), 0) AS v
                 FROM unnest($1::text[]) AS s(stream)
                 LEFT JOIN events e ON e.stream = s.stream GROUP BY s.stream""",
            unknown,
        )
        self.versions.update({r["stream"]: r["v"] for r in rows})

    async def _check_version(self, cmd: Command, stream: str) -> None:
        await self._load_versions([stream])
        current = self.versions[stream] + self.pending_streams.get(stream, 0)
        if current != cmd.expected_version:
            raise WrongExpectedVersion(
                f"stream {stream} is at version {current}, not {cmd.expected_version}",
                field="expected_version", current_version=current,
            )

    def _append(self, item: _Accepted) -> AppendResult:
        stored = [self._position(event, item.cmd, item.content_hash if i == 0 else None)
                  for i, event in enumerate(item.events)]
        first = stored[0]
        return AppendResult(
            first.position, first.event_id, first.stream, first.stream_version,
            first.chain_hash, derived=tuple(s.position for s in stored[1:]),
        )

    def _position(self, event: NewEvent, cmd: Command, digest: bytes | None) -> StoredEvent:
        self.position += 1
        version = self.versions[event.stream] + 1
        self.versions[event.stream] = version
        actor = event.actor.as_record()
        record = build_record(
            position=self.position, event_id=str(event.event_id), stream=event.stream,
            stream_version=version, type=event.type, schema_version=event.schema_version,
            data=event.data, occurred_at=event.occurred_at, recorded_at=cmd.recorded_at,
            actor=actor,
        )
        leaf = leaf_hash(record)
        self.chain = chain_hash(self.chain, leaf)
        self.nodes.extend(self.tree.append(leaf))
        if digest is None:
            body = {"type": event.type, "data": event.data}
            digest = hashlib.sha256(canonical_json(body)).digest()
        stored = StoredEvent(
            position=self.position, event_id=event.event_id, stream=event.stream,
            stream_version=version, type=event.type, schema_version=event.schema_version,
            data=event.data, occurred_at=event.occurred_at, recorded_at=cmd.recorded_at,
            actor=event.actor, record=record, leaf_hash=leaf, chain_hash=self.chain,
        )
        self.stored.append(stored)
        self.rows.append((
            self.position, event.event_id, event.stream, version, event.type,
            event.schema_version, record, leaf, self.chain, digest, event.occurred_at,
            cmd.recorded_at, event.actor.key_id, event.actor.role, event.actor.site_id,
        ))
        self.refs.extend((kind, ref, self.position) for kind, ref in sorted(event.refs))
        return stored

    async def _write(self) -> None:
        con = self.con
        await con.copy_records_to_table("events", records=self.rows, columns=EVENT_COLUMNS)
        if self.refs:
            await con.copy_records_to_table(
                "event_refs", records=self.refs, columns=("kind", "ref", "position")
            )
        await con.copy_records_to_table(
            "merkle_nodes", records=self.nodes, columns=("level", "idx", "hash")
        )
        kinds, ids, bodies = self.world.changed_rows()
        if kinds:
            await con.execute(
                """INSERT INTO write_state (kind, id, body)
                   SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])
                   ON CONFLICT (kind, id) DO UPDATE SET body = EXCLUDED.body""",
                kinds, ids, bodies,
            )
        await con.execute(
            "UPDATE log_head SET position = $1, chain_hash = $2, compact_range = $3 WHERE id = 1",
            self.position, self.chain, self.tree.to_bytes(),
        )
        for apply in self.inline:
            await apply(con, self.stored)
        await con.execute("SELECT pg_notify('bloodtrace_log', $1)", str(self.position))


EVENT_COLUMNS = (
    "position", "event_id", "stream", "stream_version", "type", "schema_version", "record",
    "leaf_hash", "chain_hash", "content_hash", "occurred_at", "recorded_at", "actor_key",
    "actor_role", "actor_site",
)
