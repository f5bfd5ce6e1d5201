"""The per-process cache of verified API keys, which revocation empties at once.

A key row that changes (revoked, altered or removed) is announced on ``KEYS_CHANNEL`` when
its transaction commits (migration 060); every server process LISTENs on it (``LogWatcher``'s
connection) and drops the key. There is no time window: an entry stays until its key is
announced. What makes that safe:

- **Not listening, not trusted.** Until the listening connection is up, and from the moment
  it is lost (or its probe fails) until it is back, ``get`` answers nothing and ``put`` keeps
  nothing: every request is checked against the database. Coming back empties the cache,
  since announcements made meanwhile were missed.
- **No stale insert.** A look-up that read a key before its revocation committed may finish
  after the announcement was handled. ``put`` takes the ``generation`` read before the
  look-up began, and any announcement (or loss of the connection) moves the generation on,
  so such a result is not kept.
"""

from __future__ import annotations

from app.events.messages import Actor

KEYS_CHANNEL = "bloodtrace_keys"
ALL_KEYS = "*"
"""The announcement of a change to every key (the table was emptied)."""
MAX_ENTRIES = 10_000
"""Entries kept before the cache is emptied (memory stays bounded whatever the traffic)."""


class KeyCache:
    """Verified bearer tokens → their actor, trusted only while revocations are heard."""

    def __init__(self) -> None:
        self._actors: dict[str, Actor] = {}
        self._generation = 0
        self.trusted = False

    @property
    def generation(self) -> int:
        """Read before a database look-up; hand it to ``put`` with the result."""
        return self._generation

    def get(self, token: str) -> Actor | None:
        return self._actors.get(token) if self.trusted else None

    def put(self, token: str, actor: Actor, generation: int) -> None:
        """Keep a verified key, unless the cache is untrusted or anything was announced
        since ``generation`` was read."""
        if not self.trusted or generation != self._generation:
            return
        if len(self._actors) >= MAX_ENTRIES:
            self._actors.clear()
        self._actors[token] = actor

    def revoked(self, key_id: str) -> None:
        """A key changed: drop it (``ALL_KEYS``: drop every key)."""
        self._generation += 1
        if key_id == ALL_KEYS:
            self._actors.clear()
            return
        for token in [t for t, actor in self._actors.items() if actor.key_id == key_id]:
            del self._actors[token]

    def listening(self, up: bool) -> None:
        """The revocation channel came up (``True``) or was lost (``False``): either way
        what is cached may have missed an announcement, so it goes."""
        self._generation += 1
        self._actors.clear()
        self.trusted = up
