"""Driver errors, translated in one place.

``map_driver_errors`` wraps every use of the pool outside the writer: a failure that means
"the database cannot be reached" leaves it as ``StoreUnavailable`` (a DomainError the edge
renders as 503 with ``Retry-After``); anything else passes unchanged, so a bug stays a bug.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

import asyncpg

from app.errors import OutcomeUnknown, Unavailable

_UNAVAILABLE = (
    OSError,
    ConnectionError,
    asyncio.TimeoutError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionFailureError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.InterfaceError,
    # "database does not allow connections" (ALLOW_CONNECTIONS false, maintenance)
    asyncpg.exceptions.ObjectNotInPrerequisiteStateError,
    # A multi-host DSN found no primary (target_session_attrs=read-write): a failover.
    asyncpg.exceptions.TargetServerAttributeNotMatched,
    # A connection left unusable: a server that died mid-reply leaves it waiting for the end
    # of an error that never comes ("cannot switch to state ..."). The pool drops it on
    # release, when its reset fails.
    asyncpg.exceptions.InternalClientError,
    # The node is a standby now: nothing was written, the primary is elsewhere.
    asyncpg.exceptions.ReadOnlySQLTransactionError,
)


class StoreUnavailable(Unavailable):
    """The database could not be reached; the driver's error is the ``__cause__``."""


class CommitOutcomeUnknown(StoreUnavailable, OutcomeUnknown):
    """The connection failed once the commit was under way (a 503 with ``outcome:
    unknown``): the commit may have landed, on the primary and its synchronous standby."""

    def __init__(self, detail: str = "the database went away while committing; the outcome "
                 "is unknown: retry with the same event_id") -> None:
        super().__init__(detail, outcome="unknown")


def is_unavailable(exc: BaseException) -> bool:
    """True when the failure means "the database cannot be reached", not "the data is bad"."""
    return isinstance(exc, _UNAVAILABLE)


class map_driver_errors:  # lower case, like contextlib.suppress: it reads as a function
    """Turn driver and connection failures inside the block into ``StoreUnavailable``.

    Works as ``async with`` (around ``pool.acquire()``) and as plain ``with`` (around an
    awaited call that acquires connections itself).
    """

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None and is_unavailable(exc):
            raise StoreUnavailable("the database is unreachable; retry shortly") from exc

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(kind, exc, tb)
