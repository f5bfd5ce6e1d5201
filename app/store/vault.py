"""The vault's tables on PostgreSQL (``050_donor_vault.sql``): sealed identities keyed by
pseudonym, the blind index of name + birth date, and the key check values. Only bytes go in
and out; sealing and opening is ``app.vault.envelope``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.store.conn import Conn


@dataclass(frozen=True, slots=True)
class VaultRow:
    donor_id: str
    key_id: str
    wrapped_key: bytes | None
    ciphertext: bytes | None
    registered_site: str | None
    registered_at: datetime
    shredded_at: datetime | None


@dataclass(frozen=True, slots=True)
class KeyCheck:
    key_id: str
    master_check: bytes
    pepper_check: bytes


_COLUMNS = ("donor_id, key_id, wrapped_key, ciphertext, registered_site, registered_at, "
            "shredded_at")


async def key_check(con: Conn, made: KeyCheck) -> KeyCheck:
    """The stored check values; ``made`` is stored first when the vault is new."""
    await con.execute(
        """INSERT INTO vault_keys (id, key_id, master_check, pepper_check)
           VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING""",
        made.key_id, made.master_check, made.pepper_check)
    row = await con.fetchrow("SELECT key_id, master_check, pepper_check FROM vault_keys")
    assert row is not None
    return KeyCheck(row["key_id"], bytes(row["master_check"]), bytes(row["pepper_check"]))


async def insert(con: Conn, donor_id: str, key_id: str, wrapped_key: bytes, ciphertext: bytes,
                 name_dob_index: bytes, site_id: str | None) -> bool:
    """Store a sealed identity; False when the donor already has a row (kept as it is)."""
    done = await con.fetchval(
        """INSERT INTO donor_vault (donor_id, key_id, wrapped_key, ciphertext, name_dob_index,
                                    registered_site)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (donor_id) DO NOTHING
           RETURNING true""",
        donor_id, key_id, wrapped_key, ciphertext, name_dob_index, site_id)
    return bool(done)


async def get(con: Conn, donor_id: str) -> VaultRow | None:
    row = await con.fetchrow(f"SELECT {_COLUMNS} FROM donor_vault WHERE donor_id = $1",
                             donor_id)
    return None if row is None else VaultRow(**dict(row))


async def by_name_dob(con: Conn, index: bytes) -> list[str]:
    """The pseudonyms whose name and birth date have this blind index."""
    rows = await con.fetch(
        "SELECT donor_id FROM donor_vault WHERE name_dob_index = $1 ORDER BY donor_id", index)
    return [r["donor_id"] for r in rows]


async def shred(con: Conn, donor_id: str) -> bool:
    """Destroy the donor's wrapped data key, ciphertext and blind index (idempotent); False
    when the vault holds no row for the donor."""
    done = await con.fetchval(
        """UPDATE donor_vault SET wrapped_key = NULL, ciphertext = NULL, name_dob_index = NULL,
                  shredded_at = coalesce(shredded_at, now())
           WHERE donor_id = $1 RETURNING true""", donor_id)
    return bool(done)


async def live_donor_ids(con: Conn) -> list[str]:
    """Every donor whose identity is still held (not shredded)."""
    rows = await con.fetch(
        "SELECT donor_id FROM donor_vault WHERE shredded_at IS NULL ORDER BY donor_id")
    return [r["donor_id"] for r in rows]


async def shredded_in_log(con: Conn, donor_ids: list[str]) -> set[str]:
    """The donors among ``donor_ids`` the log says were shredded (``DonorIdentityShredded``)."""
    rows = await con.fetch(
        """SELECT DISTINCT r.ref FROM event_refs r JOIN events e ON e.position = r.position
            WHERE r.kind = 'donor' AND r.ref = ANY($1::text[])
              AND e.type = 'DonorIdentityShredded'""", donor_ids)
    return {r["ref"] for r in rows}


async def registered_commitment(con: Conn, donor_id: str) -> str | None:
    """The ``identity_commitment`` the log's ``DonorRegistered`` of the donor holds."""
    found: str | None = await con.fetchval(
        """SELECT convert_from(record, 'UTF8')::jsonb -> 'data' ->> 'identity_commitment'
             FROM events WHERE stream = 'donor:' || $1 AND type = 'DonorRegistered'
            ORDER BY position LIMIT 1""", donor_id)
    return found
