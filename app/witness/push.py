"""The log's side of tlog-witness: a background task that pushes each new checkpoint to the
configured witnesses (``Settings.witnesses``) and stores the cosignatures they return.

For each witness it keeps the size the witness last cosigned (from the stored cosignatures at
start, then from its answers), and sends ``old <that size>``, the consistency proof from it and
the checkpoint. A 409 carries the size the witness really holds: the push is made again at
once from that size. Any other failure (a refusal, a timeout, a bad cosignature) makes it wait
before the next try, from 1 s doubling up to ``witness_backoff_max_s``; a failure is logged
when it starts or changes, and the recovery once, not every round.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import asyncpg
import httpx

from app.config import Settings, WitnessEndpoint
from app.log.notes import NoteError, VerifierKey
from app.log.tlog_witness import SIZE_MEDIA_TYPE, Request, cosignatures_in
from app.store.checkpoint_store import add_cosignatures, last_cosigned, latest_signed
from app.store.errors import StoreUnavailable, map_driver_errors
from app.store.proof_reader import consistency_proof

log = logging.getLogger(__name__)
RESYNCS = 2
"""409s followed in one round (a witness moved by another client between two requests)."""


class PushFailed(Exception):
    """One push that did not give a cosignature; the message says why."""


@dataclass(slots=True)
class Witness:
    """One configured witness and what the log knows of it."""

    endpoint: WitnessEndpoint
    key: VerifierKey
    size: int | None = None
    failures: int = 0
    retry_at: float = 0.0
    trouble: str | None = None
    """The kind of the current failure (logged when it changes), None when healthy."""

    def failed(self, why: str, kind: str, cap: float) -> None:
        delay = min(cap, 2.0 ** self.failures)
        self.failures += 1
        self.retry_at = time.monotonic() + delay
        if kind != self.trouble:
            log.warning("witness %s: %s (retrying with back-off up to %.0f s)",
                        self.endpoint.url, why, cap)
        self.trouble = kind

    def succeeded(self) -> None:
        if self.trouble is not None:
            log.warning("witness %s: cosigning again", self.endpoint.url)
        self.failures, self.retry_at, self.trouble = 0, 0.0, None


async def _push_once(client: httpx.AsyncClient, pool: asyncpg.Pool, witness: Witness,
                     size: int, note: str) -> int | None:
    """Push the checkpoint at ``size``: None when cosigned (and stored), else the size the
    witness says it holds (409)."""
    old = witness.size or 0
    if old > size:
        raise PushFailed(f"holds {old} records, more than the log's latest checkpoint {size}")
    proof: list[bytes] = []
    if 0 < old < size:
        async with map_driver_errors(), pool.acquire() as con:
            proof = (await consistency_proof(con, old, size)).proof
    body = Request(old, tuple(proof), note).body()
    url = witness.endpoint.url.rstrip("/") + "/add-checkpoint"
    try:
        answer = await client.post(url, content=body)
    except httpx.HTTPError as exc:
        raise PushFailed(f"unreachable ({type(exc).__name__}: {exc})") from None
    if answer.status_code == 409 and answer.headers.get("content-type", "").startswith(
            SIZE_MEDIA_TYPE):
        held = answer.text.strip()
        if not held.isdecimal():
            raise PushFailed(f"409 with a malformed size {held[:40]!r}")
        return int(held)
    if answer.status_code != 200:
        raise PushFailed(f"HTTP {answer.status_code}: {answer.text[:200].strip()}")
    try:
        lines = [s.line() for s in cosignatures_in(answer.text, note, witness.key)]
    except NoteError as exc:
        raise PushFailed(f"the answer holds no valid cosignature: {exc}") from None
    async with map_driver_errors(), pool.acquire() as con:
        await add_cosignatures(con, size, witness.endpoint.vkey, lines)
    return None


async def push_round(client: httpx.AsyncClient, pool: asyncpg.Pool, witnesses: list[Witness],
                     cap: float) -> None:
    """Push the latest checkpoint to every witness that is behind it and not backing off."""
    async with map_driver_errors(), pool.acquire() as con:
        latest = await latest_signed(con)
        for w in witnesses:
            if w.size is None:
                w.size = await last_cosigned(con, w.endpoint.vkey)
    if latest is None:
        return
    size, note = latest
    now = time.monotonic()
    for w in witnesses:
        if w.size == size or now < w.retry_at:
            continue
        try:
            for _ in range(1 + RESYNCS):
                held = await _push_once(client, pool, w, size, note)
                if held is None:
                    w.size = size
                    w.succeeded()
                    break
                w.size = held
                if held == size:
                    break  # it already cosigned this size (for another client of the log)
            else:
                raise PushFailed(f"still 409 after {RESYNCS} re-syncs (holds {w.size})")
        except PushFailed as exc:
            w.failed(str(exc), str(exc).split(":", 1)[0], cap)


async def run_pusher(pool: asyncpg.Pool, settings: Settings, stop: asyncio.Event,
                     transport: httpx.AsyncBaseTransport | None = None) -> None:
    """Push checkpoints to the configured witnesses until ``stop`` is set."""
    witnesses = [Witness(e, VerifierKey.parse(e.vkey)) for e in settings.witnesses]
    async with httpx.AsyncClient(timeout=settings.witness_timeout_s,
                                 transport=transport) as client:
        while not stop.is_set():
            try:
                await push_round(client, pool, witnesses, settings.witness_backoff_max_s)
            except StoreUnavailable as exc:
                log.warning("witness push: database unavailable (%s)", exc.__cause__)
            except Exception:
                # The top of a background task: anything else (a bug, a proof the stored
                # tree cannot give) is logged with its traceback, never dropped, and the
                # next round tries again.
                log.exception("witness push: round failed")
            try:
                await asyncio.wait_for(stop.wait(), 0.5)
            except TimeoutError:
                pass
