"""The writer sends a constant number of SQL statements per transaction, whatever the number
of commands in it (issue 16): counted on a real connection, with asyncpg's query logger for
queries and the COPYs counted where they are made."""

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


async def statements_per_transaction(url: str, n: int, run: str) -> Counter[str]:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=1,
                                     connection_class=CountingConnection)
    writer = Writer(pool, default_domain(), batch_max=10 * n + 10, inline=default_inline())
    await writer.start()
    try:
        async with pool.acquire() as proxy:
            con = proxy._con
        assert isinstance(con, CountingConnection)
        items = network_batch(n, run)
        con.sent.clear()
        outcomes = await writer.append_many(items)
        await asyncio.sleep(0.05)  # the logger's callbacks run on the loop
        sent = Counter(con.sent)
    finally:
        await writer.stop()
        await pool.close()
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(refused) == 1 and refused[0].rule == "already-exists"
    assert outcomes[-1] == outcomes[-2]  # one append, two answers
    assert sent["BEGIN;"] == 1 and sent["COMMIT;"] == 1  # one transaction
    return sent


async def test_statements_per_batch_do_not_grow_with_its_size(fresh_db: str) -> None:
    await statements_per_transaction(fresh_db, 1, "warm")  # statement caches warmed
    counts = {n: await statements_per_transaction(fresh_db, n, f"r{n}")
              for n in (1, 10, 100, 1000)}
    assert counts[1] == counts[10] == counts[100] == counts[1000], counts
    assert sum(counts[1].values()) < 40
