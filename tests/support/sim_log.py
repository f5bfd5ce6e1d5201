"""The simulator's log without a database: each step decided in memory, then positioned,
recorded and hashed by the writer's pure append step (``LogTail``), at a fixed clock.

The bytes come out the same on every run, so a test can pin them, and a profile of
``decide``/``evolve``/``append`` sees no database round trip.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from app.errors import DomainError
from app.events.catalogue import Catalogue, default_catalogue
from app.events.messages import Command
from app.log.merkle import CompactRange
from app.log.record import GENESIS
from app.sim.runner import to_command
from app.sim.simulator import Outcome, Simulator
from app.sim.state import SimConfig
from app.store.append import LogTail
from app.store.batch import AppendResult
from tests.support.memory_world import InMemoryWorld

END = datetime(2026, 1, 1, tzinfo=UTC)
NOW = END + timedelta(hours=6)


@dataclass(slots=True)
class SimLog:
    """The log the simulated commands made, and every outcome."""

    tail: LogTail
    commands: list[tuple[Command, bytes]] = field(default_factory=list)
    """Every command sent, in order, with its content hash: ``replay`` decides them again."""
    accepted: int = 0
    refused: int = 0




def simulate(donations: int = 60, days: int = 30, seed: int = 16) -> SimLog:
    """Run the simulator (one batch per day, as the growth bench) against an in-memory
    world; refusals are outcomes, as through the writer."""
    catalogue = default_catalogue()
    sim = Simulator(SimConfig(donations=donations, days=days, seed=seed, end=END))
    world = InMemoryWorld()
    log = SimLog(LogTail(0, GENESIS, CompactRange(), defaultdict(int)))
    seen: dict[object, AppendResult] = {}
    for steps in sim.batches(whole_days=True):
        outcomes: list[Outcome] = []
        for step in steps:
            try:
                cmd, digest = to_command(step, NOW)
                cmd = replace(cmd, recorded_at=NOW) if cmd.recorded_at != NOW else cmd
            except DomainError as err:
                log.refused += 1
                outcomes.append(err)
                continue
            if cmd.event_id in seen:
                outcomes.append(seen[cmd.event_id].replay())
                continue
            log.commands.append((cmd, digest))
            outcome = record(world, log, cmd, digest, catalogue)
            if isinstance(outcome, AppendResult):
                seen[cmd.event_id] = outcome
            outcomes.append(outcome)
        sim.settle(steps, outcomes)
    return log


def record(world: InMemoryWorld, log: SimLog, cmd: Command, digest: bytes,
           catalogue: Catalogue) -> AppendResult | DomainError:
    """Decide ``cmd`` against ``world`` and append its events to ``log``, as a batch does."""
    try:
        events = world.execute(cmd, catalogue)
    except DomainError as err:
        log.refused += 1
        return err
    log.accepted += 1
    stored = [log.tail.append(e, cmd.recorded_at, digest if i == 0 else None)
              for i, e in enumerate(events)]
    first = stored[0]
    return AppendResult(first.position, first.event_id, first.stream, first.stream_version,
                        first.chain_hash, derived=tuple(s.position for s in stored[1:]))


def replay(commands: list[tuple[Command, bytes]]) -> SimLog:
    """The same commands decided and appended again, from an empty world (the writer's CPU
    work alone: no simulator, no database)."""
    catalogue = default_catalogue()
    world = InMemoryWorld()
    log = SimLog(LogTail(0, GENESIS, CompactRange(), defaultdict(int)))
    for cmd, digest in commands:
        record(world, log, cmd, digest, catalogue)
    return log
