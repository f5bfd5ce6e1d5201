"""SQL text for the read models, built from the table specs.

``suffix`` selects the live tables (``""``) or the rebuild's shadow tables (``"__shadow"``).
"""

from __future__ import annotations

from app.projections.tables import TableSpec

SHADOW = "__shadow"

TRACKING_UPSERT = """
INSERT INTO projection_position (projection, position)
SELECT * FROM unnest($1::text[], $2::bigint[])
ON CONFLICT (projection) DO UPDATE SET position = EXCLUDED.position
"""


def upsert_sql(table: TableSpec, suffix: str = "") -> str:
    """Insert-or-replace many rows at once: one array parameter per column, in spec order."""
    cols = ", ".join(table.column_names)
    arrays = ", ".join(f"${i}::{pgtype}[]" for i, (_, pgtype) in enumerate(table.columns, 1))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in table.column_names if c not in table.key)
    return (
        f"INSERT INTO {table.name}{suffix} ({cols}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({', '.join(table.key)}) DO UPDATE SET {updates}"
    )


def select_sql(table: TableSpec, where: str, suffix: str = "") -> str:
    """Fetch rows of ``table`` matching ``where`` (the projection's own predicate)."""
    return f"SELECT {', '.join(table.column_names)} FROM {table.name}{suffix} WHERE {where}"


def digest_sql(table: TableSpec, suffix: str = "") -> str:
    """A SHA-256 of the table's rows in primary-key order, for rebuild parity."""
    name = f"{table.name}{suffix}"
    order = ", ".join(f"t.{k}" for k in table.key)
    return (
        f"SELECT encode(sha256(convert_to(coalesce(string_agg(t::text, E'\\n' ORDER BY {order}),"
        f" ''), 'UTF8')), 'hex') FROM {name} AS t"
    )
