"""API keys: ``bt_<key id>_<secret>``. The secret is 32 random bytes; only its hash is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from app.events.messages import Actor
from app.store.conn import Conn

NATIONAL_ROLES = frozenset({"auditor", "admin"})
ROLES = frozenset({"collector", "lab", "processing", "inventory", "hospital"}) | NATIONAL_ROLES


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key_id: str
    token: str
    role: str
    site_id: str | None


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


async def create_key(
    con: Conn, role: str, site_id: str | None, label: str | None = None
) -> IssuedKey:
    """Make a key. National roles have no site; every other role must name one."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {sorted(ROLES)}")
    if (role in NATIONAL_ROLES) != (site_id is None):
        raise ValueError("auditor and admin keys have no site; every other role needs --site")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    await con.execute(
        "INSERT INTO api_keys (key_id, secret_hash, role, site_id, label) VALUES ($1,$2,$3,$4,$5)",
        key_id, _digest(secret), role, site_id, label,
    )
    return IssuedKey(key_id, f"bt_{key_id}_{secret}", role, site_id)


async def authenticate(con: Conn, token: str) -> Actor | None:
    """The actor behind a bearer token, or None when it is unknown, malformed or revoked."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "bt":
        return None
    row = await con.fetchrow(
        "SELECT secret_hash, role, site_id FROM api_keys WHERE key_id = $1 AND revoked_at IS NULL",
        parts[1],
    )
    if row is None or not hmac.compare_digest(row["secret_hash"], _digest(parts[2])):
        return None
    return Actor(key_id=parts[1], role=row["role"], site_id=row["site_id"])
