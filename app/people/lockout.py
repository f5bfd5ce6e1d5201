"""The sign-in lock (WEB.md §1): an account locks after ``limit`` failed sign-ins within
``window``, and stays locked for ``window`` after the last of them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class LockPolicy:
    limit: int = 5
    window: timedelta = timedelta(minutes=15)

    def failures_in_window(self, failures: Iterable[datetime], now: datetime) -> int:
        """How many of ``failures`` fall in the window that ends at ``now``."""
        return sum(1 for at in failures if now - self.window < at <= now)

    def lock_until(self, failures: Iterable[datetime], now: datetime) -> datetime | None:
        """When the lock that ``failures`` cause at ``now`` ends, or None: no lock."""
        if self.failures_in_window(failures, now) >= self.limit:
            return now + self.window
        return None


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    """Whether a lock recorded until ``locked_until`` still holds at ``now``."""
    return locked_until is not None and now < locked_until
