"""Credentials and sessions on PostgreSQL, outside the log: argon2id hashes, TOTP secrets,
failed sign-ins and web sessions (only the SHA-256 of a session's secret is kept).

The account's name, role and site are copied here from its events for the sign-in; the log
(``AccountCreated``, ...) stays the record of who granted what.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.store.conn import Conn


@dataclass(frozen=True, slots=True)
class Credentials:
    user_id: str
    name: str
    role: str
    site_id: str | None
    password_hash: str
    totp_secret: str | None
    disabled: bool
    locked_until: datetime | None


@dataclass(frozen=True, slots=True)
class SessionRow:
    user_id: str
    name: str
    role: str
    site_id: str | None
    csrf_token: str
    last_seen_at: datetime


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def insert_account(con: Conn, user_id: str, name: str, role: str, site_id: str | None,
                         password_hash: str) -> None:
    await con.execute(
        "INSERT INTO accounts (user_id, name, role, site_id, password_hash) "
        "VALUES ($1, $2, $3, $4, $5)", user_id, name, role, site_id, password_hash)


async def update_profile(con: Conn, user_id: str, name: str, role: str,
                         site_id: str | None) -> None:
    await con.execute("UPDATE accounts SET name = $2, role = $3, site_id = $4 "
                      "WHERE user_id = $1", user_id, name, role, site_id)


async def credentials(con: Conn, user_id: str) -> Credentials | None:
    row = await con.fetchrow(
        "SELECT user_id, name, role, site_id, password_hash, totp_secret, "
        "disabled_at IS NOT NULL AS disabled, locked_until FROM accounts WHERE user_id = $1",
        user_id)
    return Credentials(**dict(row)) if row is not None else None


async def list_accounts(con: Conn) -> list[dict[str, Any]]:
    """Every account without its credentials, by user id."""
    rows = await con.fetch(
        "SELECT user_id, name, role, site_id, disabled_at IS NOT NULL AS disabled, "
        "locked_until, totp_secret IS NOT NULL AS totp, created_at FROM accounts "
        "ORDER BY user_id")
    return [dict(r) for r in rows]


async def set_password(con: Conn, user_id: str, password_hash: str) -> None:
    """A new password; the lock and the failures counted so far end with it."""
    await con.execute("UPDATE accounts SET password_hash = $2, locked_until = NULL "
                      "WHERE user_id = $1", user_id, password_hash)
    await con.execute("DELETE FROM account_failures WHERE user_id = $1", user_id)


async def set_totp(con: Conn, user_id: str, secret: str) -> None:
    await con.execute("UPDATE accounts SET totp_secret = $2 WHERE user_id = $1",
                      user_id, secret)


async def disable(con: Conn, user_id: str, at: datetime) -> None:
    """No more sign-ins; open sessions end."""
    await con.execute("UPDATE accounts SET disabled_at = $2 WHERE user_id = $1", user_id, at)
    await con.execute("DELETE FROM sessions WHERE user_id = $1", user_id)


async def add_failure(con: Conn, user_id: str, at: datetime,
                      since: datetime) -> list[datetime]:
    """Count a failed sign-in; the failures since ``since`` (older ones are dropped)."""
    await con.execute("DELETE FROM account_failures WHERE user_id = $1 AND failed_at <= $2",
                      user_id, since)
    await con.execute("INSERT INTO account_failures (user_id, failed_at) VALUES ($1, $2)",
                      user_id, at)
    rows = await con.fetch("SELECT failed_at FROM account_failures WHERE user_id = $1",
                           user_id)
    return [r["failed_at"] for r in rows]


async def lock(con: Conn, user_id: str, at: datetime, until: datetime) -> bool:
    """Lock the account until ``until``, unless a lock still holds at ``at``: True when
    this call locked it. Two failed attempts at once may both reach the limit; the row lock
    lets one through, and the other finds the account locked, so one ``AccountLocked``
    is recorded, not two."""
    async with con.transaction():
        done = await con.execute(
            "UPDATE accounts SET locked_until = $3 WHERE user_id = $1 "
            "AND (locked_until IS NULL OR locked_until <= $2)", user_id, at, until)
        if done != "UPDATE 1":
            return False
        await con.execute("DELETE FROM account_failures WHERE user_id = $1", user_id)
        await con.execute("DELETE FROM sessions WHERE user_id = $1", user_id)
    return True


async def clear_failures(con: Conn, user_id: str) -> None:
    await con.execute("DELETE FROM account_failures WHERE user_id = $1", user_id)


async def sweep_sessions(con: Conn, idle_since: datetime) -> None:
    """Delete the sessions last used before ``idle_since``: each would be refused as idle
    at its next use, and a tab closed without signing out never comes back to end its own."""
    await con.execute("DELETE FROM sessions WHERE last_seen_at < $1", idle_since)


async def open_session(con: Conn, user_id: str, at: datetime) -> tuple[str, str]:
    """A new session: (the cookie's secret, the CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    await con.execute(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at) "
        "VALUES ($1, $2, $3, $4, $4)", token_digest(token), user_id, csrf, at)
    return token, csrf


async def session(con: Conn, token: str) -> SessionRow | None:
    """The live session of ``token``: its person's role and site as they now are."""
    row = await con.fetchrow(
        "SELECT s.user_id, a.name, a.role, a.site_id, s.csrf_token, s.last_seen_at FROM sessions s "
        "JOIN accounts a USING (user_id) WHERE s.token_hash = $1 AND a.disabled_at IS NULL",
        token_digest(token))
    return SessionRow(**dict(row)) if row is not None else None


async def touch_session(con: Conn, token: str, at: datetime) -> None:
    await con.execute("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1",
                      token_digest(token), at)


async def close_session(con: Conn, token: str) -> None:
    await con.execute("DELETE FROM sessions WHERE token_hash = $1", token_digest(token))
