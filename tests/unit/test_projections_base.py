"""The working set, the SQL the specs produce, and the purity of the projections package."""

from __future__ import annotations

import ast
from pathlib import Path

from app.projections.base import Load, WorkingSet, load
from app.projections.sql import digest_sql, load_sql, upsert_sql
from app.projections.tables import ALL_TABLES, LINEAGE, UNITS

FORBIDDEN = ("fastapi", "asyncpg", "app.api", "app.store")


def test_working_set_tracks_changes_and_secondary_lookups() -> None:
    ws = WorkingSet([UNITS])
    a = UNITS.blank() | {"unit_id": "A", "din": "D1"}
    ws.add_loaded(UNITS, [a])
    assert ws.find(UNITS, "din", "D1") == [a] and ws.changed(UNITS) == []
    ws.put(UNITS, a | {"din": "D2"})
    assert ws.find(UNITS, "din", "D1") == []
    assert [r["unit_id"] for r in ws.find(UNITS, "din", "D2")] == ["A"]
    ws.add_loaded(UNITS, [a])  # a stale copy from the database never overwrites a change
    assert ws.get(UNITS, "A")["din"] == "D2"  # type: ignore[index]
    assert [r["din"] for r in ws.changed(UNITS)] == ["D2"]


def test_upsert_names_every_column_once_with_typed_arrays() -> None:
    sql = upsert_sql(LINEAGE, "__shadow")
    assert sql.startswith("INSERT INTO rm_lineage__shadow (parent_unit_id, child_unit_id, kind")
    assert "$4::bigint[]" in sql and "ON CONFLICT (parent_unit_id, child_unit_id)" in sql
    assert "parent_unit_id = EXCLUDED" not in sql
    assert "ORDER BY t.unit_id" in digest_sql(UNITS)


def test_a_load_is_data_the_runner_turns_into_sql_and_a_fold_can_filter_by() -> None:
    [by_din] = load(UNITS, "din", ["D2", "D1", "D1"])
    sql, dins = load_sql(by_din, "__shadow")
    assert "FROM rm_units__shadow WHERE (din) IN (SELECT * FROM unnest($1::text[]))" in sql
    assert dins == ["D1", "D2"]
    assert by_din.matches(UNITS.blank() | {"din": "D1"})
    assert not by_din.matches(UNITS.blank() | {"din": "D3"})
    assert load(UNITS, "din", []) == []
    segment = Load(LINEAGE, ("parent_unit_id", "child_unit_id"), (("P", "C"),), "kind")
    sql, parents, children = load_sql(segment)
    assert sql.endswith("unnest($1::text[], $2::text[])) AND kind IS NULL")
    assert (parents, children) == (["P"], ["C"])
    assert segment.matches({"parent_unit_id": "P", "child_unit_id": "C", "kind": None})
    assert not segment.matches({"parent_unit_id": "P", "child_unit_id": "C", "kind": "split"})


def test_table_specs_have_unique_columns_and_keys_among_them() -> None:
    for t in ALL_TABLES:
        names = t.column_names
        assert len(set(names)) == len(names)
        assert set(t.key) <= set(names)


def test_projections_are_pure_of_the_driver_and_the_edge() -> None:
    root = Path(__file__).resolve().parents[2] / "app" / "projections"
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"
