"""The auditor's and witness's code is pure: the Merkle tree, notes, the offline verifiers and
unit bundles import nothing from the web framework, the database driver, the HTTP edge or the
store, so ``verify-export`` runs with no database and no server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_import_graph import APP, imported_names, is_forbidden

PURE = ("merkle", "notes", "offline", "offline_parallel", "bundle", "record")


@pytest.mark.parametrize("name", PURE)
def test_pure_log_module_imports_no_io_layer(name: str) -> None:
    path: Path = APP / "log" / f"{name}.py"
    names = imported_names(path.read_text(encoding="utf-8"), "app.log")
    bad = sorted(n for n in names if is_forbidden(n) or n.startswith("app.config"))
    assert not bad, f"app/log/{name}.py imports {bad}"
