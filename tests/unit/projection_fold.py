"""An in-memory stand-in for the projection runner's database round trips, so the pure folds
can be tested without PostgreSQL. Each batch sees exactly the rows its projection's ``loads``
name, as the runner would fetch them: a projection that forgets to load a row it reads fails
here, not only in production."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.events.messages import StoredEvent
from app.projections.base import Projection, WorkingSet
from app.projections.registry import PROJECTIONS
from app.projections.tables import Row

Tables = dict[str, dict[tuple[Any, ...], Row]]


def fold(events: Sequence[StoredEvent], batch: int = 1_000_000,
         projections: Sequence[Projection] = PROJECTIONS, subscribed: bool = False) -> Tables:
    """Apply ``events`` in batches of ``batch``; return every table's rows by primary key.
    ``subscribed``: each projection sees only the events of its subscription, as the
    runner gives them (by default it sees them all)."""
    tables: Tables = {t.name: {} for p in projections for t in p.tables}
    for start in range(0, len(events), batch):
        for p in projections:
            chunk = events[start:start + batch]
            if subscribed:
                chunk = p.subscription.of(chunk)
            ws = WorkingSet(p.tables)
            for wanted in p.loads(chunk):
                ws.add_loaded(wanted.table, [dict(r) for r in tables[wanted.table.name].values()
                                             if wanted.matches(r)])
            for e in chunk:
                p.apply(ws, e)
            for t in p.tables:
                for row in ws.changed(t):
                    tables[t.name][t.key_of(row)] = dict(row)
    return tables


def unit(tables: Tables, unit_id: str) -> Row:
    return tables["rm_units"][(unit_id,)]


def rows(tables: Tables, name: str) -> list[Row]:
    return list(tables[name].values())
