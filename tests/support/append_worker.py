"""A separate process that appends notes through its own writer: ``python -m
tests.support.append_worker URL COUNT TAG``. Prints one line per accepted position."""

from __future__ import annotations

import asyncio
import sys

from app.bootstrap import open_services
from app.config import Settings
from tests.support.factories import note
from tests.support.ledger_domain import LedgerDomain


async def main(url: str, count: int, tag: str) -> None:
    settings = Settings(database_url=url, pool_min_size=1, pool_max_size=4)
    async with open_services(settings, domain=LedgerDomain(), inline=()) as s:
        results = await asyncio.gather(
            *(s.writer.append(*note(f"{tag}{i % 5}")) for i in range(count)))
    for r in results:
        print(r.position)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
