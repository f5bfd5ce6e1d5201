"""The batch decide loop: one transaction's commands, decided in order under the head lock.

Each command is decided against the state as updated by the commands before it in the batch;
a refused command fails alone and its batch-mates commit. A retried ``event_id`` with the same
content, from the key that recorded it, answers with the original result; other content under
it is a 409 naming the position. Any other key that sends a recorded ``event_id`` gets a bare
409: an event id is no ticket to another key's result, not even to whether its content matched.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from app.errors import DomainError, IdempotencyConflict, WrongExpectedVersion
from app.events.messages import Command, NewEvent, StateNotLoaded, StoredEvent
from app.store import log_sql
from app.store.append import LogTail
from app.store.conn import Conn
from app.store.world import BatchWorld, Domain

InlineApplier = Callable[[Conn, Sequence[StoredEvent]], Awaitable[None]]
MAX_LOAD_ROUNDS = 32


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

    def replay(self) -> AppendResult:
        return AppendResult(self.position, self.event_id, self.stream, self.stream_version,
                            self.chain_hash, replayed=True, derived=self.derived)


@dataclass(frozen=True, slots=True)
class Submitted:
    """A command and its idempotency digest (``content_hash``)."""

    cmd: Command
    digest: bytes


@dataclass(slots=True)
class _Accepted:
    """A command decided and applied to the batch's world, waiting for its positions."""

    cmd: Command
    digest: bytes
    events: list[NewEvent]
    result: AppendResult | None = None


Outcome = AppendResult | DomainError


@dataclass(slots=True)
class BatchReport:
    """What a committed batch did, for the writer's observers."""

    commands: int
    events: int
    lock_wait_s: float


@dataclass(slots=True)
class Batch:
    """One transaction's worth of commands, under the head-row lock."""

    con: Conn
    domain: Domain
    inline: Sequence[InlineApplier] = ()
    world: BatchWorld = field(init=False)
    seen: dict[UUID, tuple[bytes, str, AppendResult | _Accepted]] = field(default_factory=dict)
    """Event ids already recorded or accepted: (content digest, recording key, outcome)."""
    pending_streams: dict[str, int] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    position: int = 0
    """The last position given out: the head's, then each accepted command's events'."""

    def __post_init__(self) -> None:
        self.world = BatchWorld(self.domain)

    async def run(self, batch: Sequence[Submitted]) -> tuple[list[Outcome], BatchReport]:
        """Decide, append and write ``batch``; one outcome per command, in order."""
        started = time.perf_counter()
        head, recorded = await log_sql.lock_head(self.con, [s.cmd.event_id for s in batch])
        waited = time.perf_counter() - started
        self.position = head.position
        self._note_recorded(recorded)
        recorded_before = dict(self.seen)
        decided = await self._decide_all(batch, check_versions=False)
        await self._load_versions(_streams(decided))
        if not self._expected_versions_hold(decided):
            # A command expected another version, so it is refused, and the commands after it
            # are decided without what it would have changed: decide the batch again, each
            # check in its turn (the versions it needs are loaded by now).
            self.world = BatchWorld(self.domain)
            self.seen, self.pending_streams, self.position = recorded_before, {}, head.position
            decided = await self._decide_all(batch, check_versions=True)
            await self._load_versions(_streams(decided))
        tail = LogTail(head.position, head.chain, head.tree, self.versions)
        outcomes: list[Outcome] = []
        for item in decided:
            if isinstance(item, _Accepted):
                if item.result is None:
                    item.result = _append(tail, item)
                outcomes.append(item.result)
            else:
                outcomes.append(item)
        if tail.stored:
            await log_sql.write_batch(self.con, tail, self.world.changed_rows())
            for apply in self.inline:
                await apply(self.con, tail.stored)
        return outcomes, BatchReport(len(batch), len(tail.stored), waited)

    def _note_recorded(self, recorded: list[Any]) -> None:
        for r in recorded:
            result = AppendResult(r["position"], r["event_id"], r["stream"],
                                  r["stream_version"], r["chain_hash"], replayed=True)
            self.seen[r["event_id"]] = (r["content_hash"], r["actor_key"], result)

    async def _decide_all(self, batch: Sequence[Submitted], *, check_versions: bool
                          ) -> list[_Accepted | AppendResult | DomainError]:
        """Load the state the batch names, then decide its commands in order."""
        needs = [need for s in batch for need in self.domain.keys_needed(s.cmd)]
        await self.world.load(self.con, (key for key, deep in needs if not deep))
        await self.world.load_closure(self.con, (key for key, deep in needs if deep))
        return [await self._one(s, check_versions) for s in batch]

    def _expected_versions_hold(self, decided: Sequence[object]) -> bool:
        """Whether every accepted command's ``expected_version`` is its stream's version
        once the commands accepted before it are counted: then deciding with the checks,
        in order, accepts and refuses exactly the same commands."""
        counted: dict[str, int] = {}
        done: set[int] = set()
        for item in decided:
            if not isinstance(item, _Accepted) or id(item) in done:
                continue  # a command sent twice is answered by the one append
            done.add(id(item))
            expected, stream = item.cmd.expected_version, item.events[0].stream
            if expected is not None and \
                    self.versions[stream] + counted.get(stream, 0) != expected:
                return False
            for event in item.events:
                counted[event.stream] = counted.get(event.stream, 0) + 1
        return True

    async def _one(self, submitted: Submitted, check_versions: bool = True
                   ) -> _Accepted | AppendResult | DomainError:
        cmd, digest = submitted.cmd, submitted.digest
        if cmd.event_id in self.seen:
            earlier_digest, earlier_key, earlier = self.seen[cmd.event_id]
            if earlier_key != cmd.actor.key_id:
                return IdempotencyConflict(
                    f"event_id {cmd.event_id} is already used", field="event_id")
            if earlier_digest != digest:
                position = earlier.position if isinstance(earlier, AppendResult) else None
                return IdempotencyConflict(
                    f"event_id {cmd.event_id} was already recorded with other content",
                    field="event_id", position=position,
                )
            # The same command twice in one batch: one append, two answers.
            return earlier.replay() if isinstance(earlier, AppendResult) else earlier
        try:
            events = await self._decide(cmd)
            if cmd.expected_version is not None and check_versions:
                await self._check_version(cmd, events[0].stream)
        except DomainError as err:
            self.world.discard()
            return err
        self.world.accept()
        self.position += len(events)
        accepted = _Accepted(cmd, digest, events)
        self.seen[cmd.event_id] = (digest, cmd.actor.key_id, accepted)
        for event in events:
            # Later commands of the batch may touch these streams; count their versions now.
            self.pending_streams[event.stream] = self.pending_streams.get(event.stream, 0) + 1
        return accepted

    async def _decide(self, cmd: Command) -> list[NewEvent]:
        """Decide ``cmd`` and stage its events' changes, loading whatever state they ask for
        that was not prefetched (with its whole lineage, a level per query)."""
        for _ in range(MAX_LOAD_ROUNDS):
            try:
                events = [replace(e, position=self.position + i) for i, e in
                          enumerate(self.domain.decide(self.world, cmd), 1)]
                if not events:
                    raise RuntimeError(f"decide returned no event for {cmd.type}")
                for event in events:
                    self.world.stage(self.domain.evolve(self.world, event))
            except StateNotLoaded as missing:
                self.world.discard()
                await self.world.load_closure(self.con, [missing.key])
                continue
            return events
        raise RuntimeError(f"decide for {cmd.type} kept asking for more state")

    async def _load_versions(self, streams: list[str]) -> None:
        unknown = [s for s in streams if s not in self.versions]
        if unknown:
            self.versions.update(await log_sql.stream_versions(self.con, unknown))

    async def _check_version(self, cmd: Command, stream: str) -> None:
        await self._load_versions([stream])
        current = self.versions[stream] + self.pending_streams.get(stream, 0)
        if current != cmd.expected_version:
            raise WrongExpectedVersion(
                f"stream {stream} is at version {current}, not {cmd.expected_version}",
                field="expected_version", current_version=current,
            )


def _streams(decided: Sequence[object]) -> list[str]:
    """The streams the accepted commands append to, each once."""
    return list({e.stream: None for d in decided if isinstance(d, _Accepted)
                 for e in d.events})


def _append(tail: LogTail, item: _Accepted) -> AppendResult:
    stored = [tail.append(event, item.cmd.recorded_at, item.digest if i == 0 else None)
              for i, event in enumerate(item.events)]
    first = stored[0]
    return AppendResult(first.position, first.event_id, first.stream, first.stream_version,
                        first.chain_hash, derived=tuple(s.position for s in stored[1:]))
