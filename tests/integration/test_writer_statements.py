"""The writer sends a constant number of SQL statements per transaction, whatever the number
of commands in it (issue 16): counted on a real connection, with asyncpg's query logger for
queries and the COPYs counted where they are made. (A command with ``expected_version``
whose stream the batch has not loaded yet still costs one look-up of its own.)"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import asyncpg

from app.bootstrap import default_domain, default_inline
from app.errors import DomainError
from app.store.writer import Writer
from tests.support.factories import command


class CountingConnection(asyncpg.Connection):  # type: ignore[misc]
    """A real connection that notes the first word of every statement it sends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[str] = []
        self.add_query_logger(lambda logged: self.sent.append(logged.query.split()[0]))

    async def copy_records_to_table(self, table_name: str, **kwargs: Any) -> str:
        self.sent.append(f"COPY {table_name}")
        status: str = await super().copy_records_to_table(table_name, **kwargs)
        return status


def network_batch(n: int, run: str) -> list[Any]:
    """``n`` sites and donors registered and deferred, one duplicate registration refused
    and one command sent twice (answered once, replayed once): every part of the batch
    loop, in a batch whose size is the only thing that changes."""
    items = []
    for i in range(n):
        donor = f"DNR-{run}-{i}"
        items += [
            command("SiteRegistered", {"site_id": f"S-{run}-{i}", "name": f"site {i}",
                                       "kind": "blood_bank", "region": "north"}),
            command("DonorRegistered", {"donor_id": donor, "abo": "O", "rhd": "POS"}),
            command("DonorDeferred", {"donor_id": donor, "reason": "low Hb",
                                      "until": "2030-01-01T00:00:00Z"}),
        ]
    items.append(command("DonorRegistered", {"donor_id": f"DNR-{run}-0"}))
    twice = command("DonorRegistered", {"donor_id": f"DNR-{run}-again"})
    return [*items, twice, twice]


async def test_statements_per_batch_do_not_grow_with_its_size(fresh_db: str) -> None:
    pool = await asyncpg.create_pool(fresh_db, min_size=1, max_size=1,
                                     connection_class=CountingConnection)
    writer = Writer(pool, default_domain(), batch_max=20_000, inline=default_inline())
    await writer.start()
    counts: dict[int, Counter[str]] = {}
    try:
        async with pool.acquire() as proxy:
            con = proxy._con
        assert isinstance(con, CountingConnection)
        # The first batch also introspects the types of its statements, once per connection.
        for n in (1, 1, 10, 100, 1000):
            con.sent.clear()
            outcomes = await writer.append_many(network_batch(n, f"r{len(counts)}-{n}"))
            await asyncio.sleep(0.05)  # the logger's callbacks run on the loop
            refused = [o for o in outcomes if isinstance(o, DomainError)]
            assert [e.rule for e in refused] == ["already-exists"]
            assert outcomes[-1] == outcomes[-2]  # one append, two answers
            counts[len(counts)] = Counter(con.sent)
    finally:
        await writer.stop()
        await pool.close()
    steady = list(counts.values())[1:]
    assert all(c == steady[0] for c in steady), counts
    assert steady[0]["BEGIN;"] == 1 and steady[0]["COMMIT;"] == 1  # one transaction each
    assert sum(steady[0].values()) <= 20, steady[0]
