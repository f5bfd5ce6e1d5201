"""Generate the published JSON Schemas of the v1 event data from the models.

``python -m app.events.schemas_gen [DIR]`` writes ``{Type}.v1.json`` for every event type and
``index.json`` into ``DIR`` (default ``schemas/``). ``tests/unit/test_schemas.py`` fails when
the committed files differ from what the models generate.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from app.events.registry import REGISTRY

SCHEMA_BASE = "https://bloodtrace.dev/schemas/"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_name(event_type: str, version: int = 1) -> str:
    """The published file name of one event type's schema."""
    return f"{event_type}.v{version}.json"


def event_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema of one event type's ``data``."""
    schema = REGISTRY[event_type].model.model_json_schema()
    schema["title"] = event_type
    return {"$schema": DIALECT, "$id": SCHEMA_BASE + schema_name(event_type), **schema}


def index() -> dict[str, Any]:
    """Every published event type and version with its schema file."""
    return {
        "$id": SCHEMA_BASE + "index.json",
        "events": [
            {"type": t, "schema_version": 1, "schema": schema_name(t)} for t in sorted(REGISTRY)
        ],
    }


def render(document: dict[str, Any]) -> str:
    """Stable text: sorted keys, two-space indent, UTF-8 kept, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generate() -> dict[str, str]:
    """File name → content for every schema and the index."""
    files = {schema_name(t): render(event_schema(t)) for t in sorted(REGISTRY)}
    files["index.json"] = render(index())
    return files


def write(directory: Path) -> list[Path]:
    """Write every schema and the index into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generate().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: write the schemas, print their paths."""
    args = sys.argv[1:] if argv is None else argv
    for path in write(Path(args[0] if args else "schemas")):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
