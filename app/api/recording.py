"""Recording event envelopes: the one path ``POST /v1/events``, ``/v1/events/batch`` and the
web app's forms share.

The envelope is read as an integrator sends it (``app.api.body.command_from_json``), the
person's signature is checked again against their account (``app.api.signing``), and the
writer decides and appends it; a refusal is cut to what the actor may see
(``app.api.refusals``). Authorisation (role, acting site, custody) and the signature's
meaning are the domain's, inside ``decide``.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from asyncpg import Pool

from app.api.access import require_recorder
from app.api.body import command_from_json
from app.api.deps import connection
from app.api.metrics import Metrics
from app.api.problems import http_status
from app.api.refusals import Readable, as_seen_by, needs_lookup, outcome_unknown, readable
from app.api.signing import sign
from app.bootstrap import Services
from app.errors import DomainError
from app.events.messages import Actor, Command
from app.people.service import people_of
from app.store.writer import AppendResult


async def seen_by(pool: Pool, actor: Actor, cmd: Command, err: DomainError) -> DomainError:
    """A refused write as its key may see it (``app.api.refusals``)."""
    [seen] = await all_seen_by(pool, actor, [(cmd, err)])
    return seen


async def all_seen_by(pool: Pool, actor: Actor,
                      refused: list[tuple[Command, DomainError]]) -> list[DomainError]:
    """Refused writes as their key may see them; a connection is taken only when an answer
    depends on what the key may read, and then for the same few queries however many."""
    pairs = [(cmd.data, err) for cmd, err in refused]
    seen = Readable(frozenset(), frozenset())
    if needs_lookup(actor, pairs):
        async with connection(pool) as con:
            seen = await readable(con, actor, pairs)
    return [outcome_unknown(cmd.event_id, as_seen_by(seen, actor, cmd.type, cmd.data, err))
            for cmd, err in refused]


def count_outcomes(metrics: Metrics,
                   outcomes: list[tuple[str, AppendResult | DomainError]]) -> None:
    """Count appends (by requested type), replays and refusals: one counter step per type,
    not per event (each step of a labelled counter takes a lock)."""
    appended: Counter[str] = Counter()
    replays = 0
    for event_type, outcome in outcomes:
        if isinstance(outcome, DomainError):
            metrics.refused(outcome.rule, http_status(outcome))
        elif outcome.replayed:
            replays += 1
        else:
            appended[event_type] += 1
    for event_type, n in appended.items():
        metrics.appends.labels(type=event_type).inc(n)
    if replays:
        metrics.replays.inc(replays)


def count(metrics: Metrics, event_type: str, outcome: AppendResult | DomainError) -> None:
    """One recording's outcome in the service's metrics."""
    count_outcomes(metrics, [(event_type, outcome)])


async def record_envelope(
    services: Services, actor: Actor, raw: Any, now: datetime | None = None,
) -> tuple[Command, AppendResult]:
    """Record one parsed envelope (``{type, data, signature?, ...}``) for ``actor``: the
    command as decided and where it landed, or the ``DomainError`` that refused it (as the
    actor may see it). One envelope is one append: it lands whole or not at all."""
    require_recorder(actor)
    cmd, content, signature = command_from_json(raw, actor, now or datetime.now(UTC))
    cmd = await sign(people_of(services), actor, cmd, signature)
    try:
        result = await services.writer.append(cmd, content)
    except DomainError as err:
        raise await seen_by(services.pool, actor, cmd, err) from err.__cause__
    return cmd, result
