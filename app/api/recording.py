"""Recording one event envelope: the one path ``POST /v1/events`` and the web app's forms
share.

The envelope is read as an integrator sends it (``app.api.body.command_from_json``), the
person's signature is checked again against their account (``app.api.signing``), and the
writer decides and appends it; a refusal is cut to what the actor may see
(``app.api.refusals``). Authorisation (role, acting site, custody) and the signature's
meaning are the domain's, inside ``decide``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from asyncpg import Pool

from app.api.access import reads_everything, require_recorder
from app.api.body import command_from_json
from app.api.deps import connection
from app.api.metrics import Metrics
from app.api.problems import http_status
from app.api.refusals import as_seen_by, depends_on_subject, outcome_unknown
from app.api.signing import sign
from app.bootstrap import Services
from app.errors import DomainError
from app.events.messages import Actor, Command
from app.people.service import people_of
from app.store.writer import AppendResult


async def seen_by(pool: Pool, actor: Actor, cmd: Command, err: DomainError) -> DomainError:
    """A refused write as its key may see it (``app.api.refusals``); a connection is taken
    only when the answer depends on what the key may read."""
    if depends_on_subject(err) and not reads_everything(actor):
        async with connection(pool) as con:
            return await as_seen_by(con, actor, cmd.type, cmd.data, err)
    return outcome_unknown(cmd.event_id, err)


def count(metrics: Metrics, event_type: str, outcome: AppendResult | DomainError) -> None:
    """One recording's outcome in the service's metrics."""
    if isinstance(outcome, DomainError):
        metrics.refused(outcome.rule, http_status(outcome))
    elif outcome.replayed:
        metrics.replays.inc()
    else:
        metrics.appends.labels(type=event_type).inc()


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
