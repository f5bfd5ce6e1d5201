"""Wakes change-feed streams when the log grows.

The writer sends ``NOTIFY bloodtrace_log, '<head position>'`` in every commit. One dedicated
connection per process LISTENs on that channel and wakes every waiting stream. A notification
is only a hint: streams always read ``WHERE position > cursor`` themselves and also wake on a
short timeout, so a lost connection (or a missed notification) only delays them; nothing is
skipped. The connection is re-opened after a failure.

The same connection LISTENs for key revocations (``app.api.key_cache``) and tells the key
cache whether it is listening: the moment the connection is lost, or a probe of it fails,
the cache stops being trusted until the connection is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg

from app.api.key_cache import KEYS_CHANNEL, KeyCache
from app.store.errors import StoreUnavailable, map_driver_errors

log = logging.getLogger(__name__)
CHANNEL = "bloodtrace_log"
LISTENER_NAME = "bloodtrace-listen"
"""The listening connection's ``application_name``, for operators (and tests) to find it."""


class LogWatcher:
    """The known head of the log, and a way to wait until it moves past a position."""

    def __init__(self, url: str, keys: KeyCache | None = None, *, retry_seconds: float = 1.0,
                 probe_seconds: float = 2.0) -> None:
        self._url = url
        self._keys = keys
        self._retry = retry_seconds
        self._probe = probe_seconds
        self._head = 0
        self._moved = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.listening = False

    @property
    def head(self) -> int:
        """The highest position announced so far (0 before the first notification)."""
        return self._head

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="bloodtrace-log-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def wait_past(self, position: int, seconds: float) -> None:
        """Return once the head is announced past ``position``, or after ``seconds``."""
        moved = self._moved
        if self._head > position:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await moved.wait()

    def _wake(self) -> None:
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()

    def _notified(self, _con: Any, _pid: int, _channel: str, payload: object) -> None:
        if isinstance(payload, str) and payload.isdigit():
            self._head = max(self._head, int(payload))
        self._wake()

    def _key_changed(self, _con: Any, _pid: int, _channel: str, payload: object) -> None:
        if self._keys is not None and isinstance(payload, str):
            self._keys.revoked(payload)

    def _listening(self, up: bool) -> None:
        self.listening = up
        if self._keys is not None and self._keys.trusted != up:
            self._keys.listening(up)

    async def _run(self) -> None:
        while True:
            try:
                async with map_driver_errors():
                    await self._listen()
            except StoreUnavailable as exc:
                log.warning("log watch connection lost (%s); retrying",
                            type(exc.__cause__).__name__)
            except asyncpg.PostgresError as exc:
                # The server refused LISTEN or the probe: worth retrying, since streams only
                # lose their wake-ups meanwhile (they still poll).
                log.warning("log watch refused by the server (%s); retrying", exc)
            self._listening(False)
            await asyncio.sleep(self._retry)

    async def _listen(self) -> None:
        con = await asyncpg.connect(self._url, timeout=5,
                                    server_settings={"application_name": LISTENER_NAME})
        try:
            # A connection that dies stops the key cache being trusted there and then, not
            # at the next probe.
            con.add_termination_listener(lambda _con: self._listening(False))
            await con.add_listener(CHANNEL, self._notified)
            await con.add_listener(KEYS_CHANNEL, self._key_changed)
            # Only once both LISTENs hold: what was announced before is missed, so the key
            # cache starts empty.
            self._listening(True)
            # Anything committed while we were not listening is found by the streams' reads.
            self._wake()
            while not con.is_closed():
                # A cheap round trip notices a dead server even when no NOTIFY arrives.
                await asyncio.sleep(self._probe)
                await con.execute("SELECT 1", timeout=self._probe)
        finally:
            self._listening(False)
            con.terminate()  # never waits on a dead peer
