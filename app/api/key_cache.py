"""The per-process cache of verified API keys, which revocation empties at once.

A key row that changes (revoked, altered or removed) is announced on ``KEYS_CHANNEL`` when
its transaction commits (migration 060); every server process LISTENs on it (``LogWatcher``'s
connection) and drops the key. There is no time window: an entry stays until its key is
announced. What makes that safe:

- **Not listening, not trusted.** Until the listening connection is up, and from the moment
  it is lost (or its probe fails) until it is back, ``get`` answers nothing: every request
  is checked against the database again. Coming back empties the cache, since
  announcements made meanwhile were missed.
- **No stale insert.** A look-up that read a key before its revocation committed may finish
  after the announcement was handled. ``put`` takes the ``generation`` read before the
  look-up began, and any announcement (or loss of the connection) moves the generation on,
  so such a result is not kept.
- **An outage.** When the database cannot be asked either, what was verified before is all
  there is: ``stale`` gives it, and the caller uses it only where nothing can be done
  without that database (``app.api.deps.actor_of``), so the request fails where it needs the
  database (a 503), as it did before the connection was lost, instead of at sign-in. A
  revocation cannot commit while the database is down, and any look-up that reaches the
  database meanwhile replaces or drops the entry.
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
        """The verified actor of ``token``, while revocations are heard; else None."""
        return self._actors.get(token) if self.trusted else None

    def stale(self, token: str) -> Actor | None:
        """What was last verified for ``token``, heard or not: only for when the database
        cannot be asked (see the module's docstring)."""
        return self._actors.get(token)

    def put(self, token: str, actor: Actor, generation: int) -> None:
        """Keep a key the database verified, unless anything was announced (or the
        connection lost or regained) since ``generation`` was read."""
        if generation != self._generation:
            return
        if len(self._actors) >= MAX_ENTRIES:
            self._actors.clear()
        self._actors[token] = actor

    def drop(self, token: str) -> None:
        """The database refused ``token``: forget it."""
        self._actors.pop(token, None)

    def revoked(self, key_id: str) -> None:
        """A key changed: drop it (``ALL_KEYS``: drop every key)."""
        self._generation += 1
        if key_id == ALL_KEYS:
            self._actors.clear()
            return
        for token in [t for t, actor in self._actors.items() if actor.key_id == key_id]:
            del self._actors[token]

    def listening(self, up: bool) -> None:
        """The revocation channel came up (``True``: what is cached may have missed an
        announcement, so it goes) or was lost (``False``: nothing is trusted from here on,
        and a look-up under way is not kept)."""
        self._generation += 1
        if up:
            self._actors.clear()
        self.trusted = up
