"""The parts of the API documentation read off the event registry: one example body per
event type a client may record, and the role matrix (RULES §9: kept as data in one place,
``app.events.registry.ROLE_EVENTS``, and published in the OpenAPI description)."""

from __future__ import annotations

from typing import Any

from app.events.authz import ADMIN, ROLES
from app.events.registry import REGISTRY, ROLE_EVENTS


def event_examples() -> list[dict[str, Any]]:
    """``{"type", "data"}`` for every type a client may ask for, in life-cycle order."""
    return [{"type": t.name, "data": dict(t.example)} for t in REGISTRY.values()
            if t.decide is not None and t.example is not None]


def role_matrix() -> str:
    """Markdown: which role records which event type (admins record every type)."""
    roles = [r for r in ROLES if r not in (ADMIN, "auditor")]
    lines = ["| event type | " + " | ".join(roles) + " |",
             "|---|" + "---|" * len(roles)]
    for t in REGISTRY.values():
        if t.decide is None:
            continue
        marks = ["✓" if t.name in ROLE_EVENTS[r] else "" for r in roles]
        lines.append(f"| `{t.name}` | " + " | ".join(marks) + " |")
    return ("\n\n**Who records what** (admin keys record every type; auditor keys none):\n\n"
            + "\n".join(lines) + "\n")
