"""Pure code stays pure: app/events and app/projections import nothing from the web framework,
the database driver, the HTTP edge or the store. Checked on the AST of every module, so an
import inside a function, or a relative one, counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
PURE_PACKAGES = ("events", "projections")
FORBIDDEN = ("fastapi", "starlette", "asyncpg", "uvicorn", "app.api", "app.store")


def modules() -> list[Path]:
    return sorted(p for pkg in PURE_PACKAGES for p in (APP / pkg).rglob("*.py"))


def imported_names(source: str, package: str) -> set[str]:
    """Every module (and module.name) that ``source``, living in ``package``, imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def is_forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(APP)))
def test_pure_module_imports_no_io_layer(path: Path) -> None:
    package = ".".join(path.relative_to(APP.parent).parts[:-1])
    names = imported_names(path.read_text(encoding="utf-8"), package)
    bad = sorted(n for n in names if is_forbidden(n))
    assert not bad, f"{path.relative_to(APP)} imports {bad}"


@pytest.mark.parametrize("source", [
    "def f():\n    import asyncpg\n",
    "from ..api import deps\n",
    "from .. import store\n",
    "import fastapi.responses\n",
    "from app.store.writer import Writer\n",
])
def test_the_check_sees_nested_and_relative_imports(source: str) -> None:
    assert any(is_forbidden(n) for n in imported_names(source, "app.events"))


def test_allowed_imports_pass() -> None:
    names = imported_names("from .envelope import Key\nimport orjson\n", "app.events")
    assert not any(is_forbidden(n) for n in names)


def test_there_is_something_to_check() -> None:
    assert any(p.name == "registry.py" for p in modules())
