"""``python -m app.projections.ddl rm_units ...``: the ``CREATE TABLE`` of read-model tables
as their specs define them, to paste into a new migration when a state model gains a field.

Migrations stay plain, hashed SQL files; this only writes the column lists, which
``tests/integration/test_read_models.py`` then holds the migration to.
"""

from __future__ import annotations

import sys

from app.projections.tables import ALL_TABLES, TableSpec

NOT_NULL = ("status", "in_stock")


def create_table(spec: TableSpec) -> str:
    """The statement creating ``spec``'s table, primary key included."""
    columns = ",\n".join(
        f"    {name:<22} {pgtype}"
        f"{' NOT NULL' if name in spec.key or name in NOT_NULL else ''}"
        for name, pgtype in spec.columns)
    return f"CREATE TABLE {spec.name} (\n{columns},\n    PRIMARY KEY ({', '.join(spec.key)})\n);\n"


def main(argv: list[str] | None = None) -> int:
    names = sys.argv[1:] if argv is None else argv
    by_name = {t.name: t for t in ALL_TABLES}
    for name in names or list(by_name):
        print(create_table(by_name[name]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
