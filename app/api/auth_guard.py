"""Making key guessing cost the guesser, not the database.

- A token that cannot be a key (``bt_<16 hex>_<43 url-safe>``) is refused without a look-up
  (it also never carries text such as U+0000 into SQL).
- A token the database refused is remembered for ``NEGATIVE_SECONDS``: repeating it costs
  nothing.
- Each client (by address, as the ASGI server reports it: behind a trusted proxy, the
  forwarded one) has a token bucket of database look-ups that failed: ``burst`` at once, then
  ``per_second``. An empty bucket is a 429 with ``Retry-After`` before any look-up; keys that
  are already verified (and cached) pass regardless.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

TOKEN = re.compile(r"bt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")
NEGATIVE_SECONDS = 30.0
MAX_TRACKED = 10_000
"""Entries each table keeps before it is emptied (a flood of addresses costs bounded memory)."""


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class AuthGuard:
    """Per process: failed tokens recently seen, and each client's failure bucket."""

    burst: int = 20
    per_second: float = 0.5
    refused: dict[str, float] = field(default_factory=dict)
    buckets: dict[str, _Bucket] = field(default_factory=dict)

    @staticmethod
    def well_formed(token: str) -> bool:
        return TOKEN.fullmatch(token) is not None

    def recently_refused(self, token: str) -> bool:
        until = self.refused.get(token)
        return until is not None and until > time.monotonic()

    def wait_seconds(self, client: str) -> int:
        """0 when the client may try a look-up now, else how long until it may."""
        bucket = self._bucket(client)
        if bucket.tokens >= 1:
            return 0
        return max(1, math.ceil((1 - bucket.tokens) / self.per_second))

    def failed(self, client: str, token: str) -> None:
        """A look-up found no such key: spend one of the client's tokens, remember it."""
        if len(self.refused) > MAX_TRACKED:
            self.refused.clear()
        self.refused[token] = time.monotonic() + NEGATIVE_SECONDS
        bucket = self._bucket(client)
        bucket.tokens = max(0.0, bucket.tokens - 1)

    def _bucket(self, client: str) -> _Bucket:
        now = time.monotonic()
        bucket = self.buckets.get(client)
        if bucket is None:
            if len(self.buckets) > MAX_TRACKED:
                self.buckets.clear()
            bucket = self.buckets[client] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.per_second)
        bucket.at = now
        return bucket
