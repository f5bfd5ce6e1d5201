"""Runs the pure read-model folds against PostgreSQL.

Per batch and per projection: one query to load the rows the batch reads, the fold in memory,
then one bulk upsert per changed table, so the cost grows with the number of tables, not with
the number of events. ``apply_inline`` is what the writer calls inside its transaction; the
rebuild calls ``apply_projections`` on shadow tables with the same code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Any

from app.events.messages import StoredEvent
from app.projections.base import Projection, WorkingSet
from app.projections.registry import PROJECTIONS
from app.projections.sql import TRACKING_UPSERT, load_sql, merge_sql, stage_of, upsert_sql
from app.projections.tables import Row, TableSpec
from app.store.conn import Conn


async def apply_inline(con: Conn, events: Sequence[StoredEvent]) -> None:
    """Apply a committed-to-be batch (position order) to every live read model, and move
    their tracking rows, inside the caller's transaction."""
    if not events:
        return
    await apply_projections(con, events, PROJECTIONS)
    await set_positions(con, [p.name for p in PROJECTIONS], events[-1].position)


async def apply_projections(
    con: Conn,
    events: Sequence[StoredEvent],
    projections: Iterable[Projection],
    suffix: str = "",
    *,
    staged: bool = False,
) -> None:
    """Fold ``events`` into the given projections' tables (``suffix`` picks shadow tables).

    ``staged`` (the rebuild, with ``create_stages`` run on ``con``): the changed rows go in by
    binary COPY into a temporary table, then one INSERT … ON CONFLICT moves them, so that
    bulk writes skip the array parameters; the result is the same upsert. Each projection
    sees only the events of its ``subscription``."""
    for projection in projections:
        mine = projection.subscription.of(events)
        if not mine:
            continue
        ws = WorkingSet(projection.tables)
        for load in projection.loads(mine):
            rows = await con.fetch(*load_sql(load, suffix))
            ws.add_loaded(load.table, (dict(r) for r in rows))
        for event in mine:
            projection.apply(ws, event)
        for table in projection.tables:
            changed = ws.changed(table)
            if not changed:
                continue
            if staged:
                await con.copy_records_to_table(
                    stage_of(table, suffix), records=map(itemgetter(*table.column_names),
                                                         changed),
                    columns=table.column_names)
                await con.execute(merge_sql(table, suffix))
            else:
                await con.execute(upsert_sql(table, suffix), *columns_of(table, changed))


async def create_stages(con: Conn, tables: Iterable[TableSpec], suffix: str) -> None:
    """The temporary tables ``staged`` writes go through, emptied at every commit."""
    for table in tables:
        await con.execute(f"DROP TABLE IF EXISTS {stage_of(table, suffix)}")
        await con.execute(f"CREATE TEMPORARY TABLE {stage_of(table, suffix)} "
                          f"(LIKE {table.name}{suffix}) ON COMMIT DELETE ROWS")


async def drop_stages(con: Conn, tables: Iterable[TableSpec], suffix: str) -> None:
    for table in tables:
        await con.execute(f"DROP TABLE IF EXISTS {stage_of(table, suffix)}")


async def set_positions(con: Conn, names: Sequence[str], position: int) -> None:
    """Record that the named projections have applied the log up to ``position``."""
    await con.execute(TRACKING_UPSERT, list(names), [position] * len(names))


def columns_of(table: TableSpec, rows: Sequence[Row]) -> list[list[Any]]:
    """Rows turned into one list per column, the shape ``unnest`` takes."""
    return [[row[c] for row in rows] for c in table.column_names]
