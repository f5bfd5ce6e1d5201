"""Driver errors, translated in one place."""

from __future__ import annotations

import asyncio

import asyncpg

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
)


def is_unavailable(exc: BaseException) -> bool:
    """True when the failure means "the database cannot be reached", not "the data is bad"."""
    return isinstance(exc, _UNAVAILABLE)
