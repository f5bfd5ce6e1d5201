"""How far the read replica is behind the primary: in log positions, WAL bytes and seconds.

A standby replays commits in commit order, and commit order is position order, so its log is
always a prefix of the primary's: ``events`` is simply the difference of the two heads.
``seconds`` is the age of the last transaction replayed while the standby has WAL still to
replay (0 when it has replayed all it received, since an idle log has nothing to lag on).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg

from app.store.errors import map_driver_errors
from app.store.log_reader import head_position

TIMEOUT_S = 1.0


@dataclass(frozen=True, slots=True)
class ReplicaLag:
    standby: bool
    """The read pool is on a server in recovery (a replica), not on the primary itself."""
    events: int
    bytes: int
    seconds: float

    def as_dict(self) -> dict[str, object]:
        return {"standby": self.standby, "lag_events": self.events, "lag_bytes": self.bytes,
                "lag_seconds": round(self.seconds, 3)}


_REPLICA_SQL = """
SELECT pg_is_in_recovery() AS standby,
       (SELECT position FROM log_head WHERE id = 1) AS position,
       CASE WHEN NOT pg_is_in_recovery() THEN 0
            ELSE greatest(0, pg_wal_lsn_diff($1::text::pg_lsn, pg_last_wal_replay_lsn())) END
         AS behind,
       CASE WHEN NOT pg_is_in_recovery()
              OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END AS seconds
"""


async def replica_lag(primary: asyncpg.Pool, replica: asyncpg.Pool) -> ReplicaLag:
    """Measure the lag now; ``StoreUnavailable`` when either server does not answer within a
    second."""
    with map_driver_errors():
        async with asyncio.timeout(TIMEOUT_S):
            async with primary.acquire() as con:
                head = await head_position(con)
                lsn: str = await con.fetchval("SELECT pg_current_wal_lsn()::text")
            async with replica.acquire() as con:
                row = await con.fetchrow(_REPLICA_SQL, lsn)
    assert row is not None
    return ReplicaLag(standby=bool(row["standby"]), events=max(0, head - int(row["position"])),
                      bytes=int(row["behind"] or 0), seconds=float(row["seconds"] or 0.0))
