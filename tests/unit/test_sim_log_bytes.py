"""The simulator's log, byte for byte: records, leaf, chain and content hashes pinned.

Every event type the simulator records (derived ones, signatures and late entries
included) goes through the writer's append step at a fixed clock; a change that makes the
write path cheaper must leave all of these bytes as they were.
"""

from __future__ import annotations

import hashlib

from tests.support.sim_log import replay, simulate

RECORDS = "6b6a9c488b37c295db463774179e0c5b508db3513cd6efceb11378c34fa91bf3"
REFS = "331457be2eef62c9098fd3293190e963b5445cdcea527633f45b73c06259236e"
CHAIN = "52c8f4cf897f973938b590ac5875127d02b4d44240c1bdffd9f13268b45b937c"
ROOT = "2397884cfb10e03d8fb0738c478649a50e0317384a683e431da8f5086ab14cbe"


def test_the_simulated_log_keeps_its_bytes() -> None:
    log = simulate(donations=60, days=30)
    rows = log.tail.rows
    assert (len(rows), log.accepted, log.refused) == (1718, 1694, 3)
    assert len({row[4] for row in rows}) == 33  # event types
    assert any(s.signature is not None for s in log.tail.stored)
    assert any(s.late_entry_reason is not None for s in log.tail.stored)
    digest = hashlib.sha256()
    for row in rows:  # record, leaf_hash, chain_hash, content_hash
        for value in row[6:10]:
            digest.update(len(value).to_bytes(4, "big") + value)
    assert digest.hexdigest() == RECORDS
    assert hashlib.sha256(repr(log.tail.refs).encode()).hexdigest() == REFS
    assert log.tail.chain.hex() == CHAIN
    assert log.tail.tree.root().hex() == ROOT
    assert all(s.record == row[6] for s, row in zip(log.tail.stored, rows, strict=True))


def test_replaying_the_commands_makes_the_same_log() -> None:
    first = simulate(donations=20, days=10)
    again = replay(first.commands)
    assert again.tail.rows == first.tail.rows
    assert (again.accepted, again.refused) == (first.accepted, first.refused)
