"""SQL text for the read models, built from the table specs.

``suffix`` selects the live tables (``""``) or the rebuild's shadow tables (``"__shadow"``).
"""

from __future__ import annotations

from typing import Any

from app.projections.base import Load
from app.projections.tables import TableSpec

SHADOW = "__shadow"

TRACKING_UPSERT = """
INSERT INTO projection_position (projection, position)
SELECT * FROM unnest($1::text[], $2::bigint[])
ON CONFLICT (projection) DO UPDATE SET position = EXCLUDED.position
"""


def upsert_sql(table: TableSpec, suffix: str = "") -> str:
    """Insert-or-replace many rows at once: one array parameter per column, in spec order."""
    arrays = ", ".join(f"${i}::{pgtype}[]" for i, (_, pgtype) in enumerate(table.columns, 1))
    return _upsert(table, suffix, f"SELECT * FROM unnest({arrays})")


def stage_of(table: TableSpec, suffix: str = "") -> str:
    """The temporary table that staged writes (the rebuild's COPY) go through."""
    return f"{table.name}{suffix}__stage"


def merge_sql(table: TableSpec, suffix: str = "") -> str:
    """Insert-or-replace the rows staged in ``stage_of(table, suffix)`` and empty the stage
    in the same statement (several pages may go through it in one transaction):
    ``upsert_sql``'s statement, reading the stage instead of arrays."""
    cols = ", ".join(table.column_names)
    return (f"WITH staged AS (DELETE FROM {stage_of(table, suffix)} RETURNING {cols}) "
            + _upsert(table, suffix, f"SELECT {cols} FROM staged"))


def _upsert(table: TableSpec, suffix: str, source: str) -> str:
    cols = ", ".join(table.column_names)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in table.column_names if c not in table.key)
    return (
        f"INSERT INTO {table.name}{suffix} ({cols}) {source} "
        f"ON CONFLICT ({', '.join(table.key)}) DO UPDATE SET {updates}"
    )


def load_sql(load: Load, suffix: str = "") -> tuple[Any, ...]:
    """The query (and its arguments) fetching the rows ``load`` names.

    A join on ``unnest`` rather than ``= ANY``: the planner then probes the index for each key
    instead of scanning a small, churning table.
    """
    table = load.table
    arrays = ", ".join(f"${i}::{dict(table.columns)[c]}[]" for i, c in enumerate(load.columns, 1))
    where = f"({', '.join(load.columns)}) IN (SELECT * FROM unnest({arrays}))"
    if load.open_column is not None:
        where += f" AND {load.open_column} IS NULL"
    args = [[key[i] for key in load.keys] for i in range(len(load.columns))]
    return (f"SELECT {', '.join(table.column_names)} FROM {table.name}{suffix} WHERE {where}",
            *args)


def digest_sql(table: TableSpec, suffix: str = "") -> str:
    """A SHA-256 of the table's rows in primary-key order, for rebuild parity."""
    name = f"{table.name}{suffix}"
    order = ", ".join(f"t.{k}" for k in table.key)
    return (
        f"SELECT encode(sha256(convert_to(coalesce(string_agg(t::text, E'\\n' ORDER BY {order}),"
        f" ''), 'UTF8')), 'hex') FROM {name} AS t"
    )
