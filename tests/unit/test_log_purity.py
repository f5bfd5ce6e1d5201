"""``app/log`` is the auditor's and the witness's code, and it is pure: no module of the package
imports the web framework, the database driver, an HTTP client, the CLI toolkit, the HTTP edge,
the store, the settings or the composition root, so ``verify-export`` runs with no database and
no server. Every module is found on disk, so a new one is checked without being listed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_import_graph import APP, imported_names

LOG = APP / "log"
FORBIDDEN = ("fastapi", "starlette", "asyncpg", "httpx", "typer", "rich", "uvicorn",
             "app.api", "app.store", "app.config", "app.bootstrap")


def log_modules() -> list[Path]:
    return sorted(LOG.rglob("*.py"))


def forbidden(names: set[str]) -> list[str]:
    return sorted(n for n in names
                  if any(n == f or n.startswith(f + ".") for f in FORBIDDEN))


@pytest.mark.parametrize("path", log_modules(), ids=lambda p: str(p.relative_to(LOG)))
def test_log_module_imports_no_io_layer(path: Path) -> None:
    package = ".".join(path.relative_to(APP.parent).parts[:-1])
    bad = forbidden(imported_names(path.read_text(encoding="utf-8"), package))
    assert not bad, f"{path.relative_to(APP)} imports {bad}"


def test_every_module_of_the_package_is_checked() -> None:
    names = {p.stem for p in log_modules()}
    assert {"merkle", "notes", "record", "offline", "bundle", "checkpoints", "export", "proofs",
            "witness", "encoding", "__init__"} <= names


@pytest.mark.parametrize("source", [
    "import httpx\n", "def f():\n    from typer import Typer\n", "from rich.console import x\n",
    "from ..config import Settings\n", "from app.bootstrap import open_services\n",
    "from ..store.conn import Conn\n", "import uvicorn\n",
])
def test_the_check_sees_each_forbidden_layer(source: str) -> None:
    assert forbidden(imported_names(source, "app.log"))
