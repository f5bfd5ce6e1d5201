"""Key administration beyond creation (``keys.create_key``): revocation."""

from __future__ import annotations

from app.store.conn import Conn


async def revoke_key(con: Conn, key_id: str) -> bool:
    """Revoke a key; False when no such (unrevoked) key exists. Only ``revoked_at`` may be
    updated by the service's role, so nothing else about a key can change."""
    status: str = await con.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL",
        key_id)
    return status.endswith(" 1")
