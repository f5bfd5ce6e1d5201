"""The periodic checkpointer: a background task that signs the head of the log as it grows
(``app/store/checkpoint_store.py`` does the signing)."""

from __future__ import annotations

import asyncio
import logging
import time

import asyncpg

from app.config import Settings
from app.log.checkpoints import SigningKeyError
from app.log.notes import NoteSigner
from app.signing_keys import load_signers
from app.store.checkpoint_store import make_checkpoint, register_keys
from app.store.errors import StoreUnavailable, map_driver_errors

log = logging.getLogger(__name__)


async def run_checkpointer(pool: asyncpg.Pool, settings: Settings, stop: asyncio.Event,
                           signers: list[NoteSigner] | None = None) -> None:
    """Sign a checkpoint every ``checkpoint_every_events`` records or, when the log moved,
    every ``checkpoint_every_seconds``; and once more when ``stop`` is set, then return.

    Pass ``signers`` (from ``load_signers``, called at start-up) to fail fast on a bad key.
    """
    if signers is None:
        signers = await asyncio.to_thread(load_signers, settings)
    async with pool.acquire() as con:
        signers = await register_keys(con, signers)
    if not signers:
        raise SigningKeyError("every configured signing key is retired")
    poll = min(0.5, settings.checkpoint_every_seconds)
    signed_at, last_signed = time.monotonic(), -1
    while True:
        stopping = stop.is_set()
        try:
            async with map_driver_errors(), pool.acquire() as con:
                position: int = await con.fetchval("SELECT position FROM log_head WHERE id = 1")
                if last_signed < 0:
                    last_signed = (await con.fetchval(
                        "SELECT coalesce(max(size), 0) FROM checkpoints"))
                waited = time.monotonic() - signed_at
                due = position - last_signed >= settings.checkpoint_every_events or (
                    position > last_signed
                    and (waited >= settings.checkpoint_every_seconds or stopping))
                if due:
                    await make_checkpoint(con, signers, settings.log_origin)
                    signed_at, last_signed = time.monotonic(), position
        except StoreUnavailable as exc:
            # The checkpointer must outlive a database restart.
            log.warning("checkpointer: database unavailable (%s)", exc.__cause__)
        except Exception:
            # The top of a background task: anything else (an inconsistent head, a bug) is
            # logged with its traceback on every round until it is fixed, never dropped.
            log.exception("checkpointer: cannot sign a checkpoint")
        if stopping:
            return
        try:
            await asyncio.wait_for(stop.wait(), poll)
        except TimeoutError:
            pass
