"""The vault's service layer: register a person (vault row, then ``DonorRegistered``), read
an identity (``DonorIdentityViewed`` first, then open it), search, shred.

Registration is all-or-nothing without a shared transaction: the sealed row is written
first, idempotently keyed by the pseudonym, then ``DonorRegistered`` is appended with an
``event_id`` derived from the pseudonym. A refused or lost append leaves a row that no search
or read shows (they all need the donor in the log) and that the next registration of the same
person completes; a repeated one is the writer's idempotent replay.

The log is the authority on erasure: once it holds ``DonorIdentityShredded`` for a donor
(from ``bloodtrace donors shred``, or an admin's event sent directly), the identity is
treated as erased and its key destroyed at the next touch, so a shred interrupted between
its two steps, or recorded without the command, never leaves a readable identity.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import asyncpg
import orjson
from pydantic import BaseModel, ConfigDict, Field

from app.api.body import command_from_json
from app.errors import (
    AlreadyExists,
    DonorIdentityNotFound,
    DonorIdentityShredded,
    IdempotencyConflict,
    IdentityAccessDenied,
    VaultKeyMismatch,
    VaultTampered,
)
from app.events.authz import ADMIN
from app.events.messages import Actor
from app.events.slices.donors import IDENTITY_READERS, IDENTITY_SITE_KINDS
from app.store import vault as store
from app.store.conn import Conn
from app.store.errors import map_driver_errors
from app.store.writer import AppendResult, Writer
from app.vault import identity as rules
from app.vault.envelope import KeyWrapper, check_value, open_sealed, seal, verify_check_value

PEPPER_CHECK = b"bloodtrace vault pepper check v1"
Envelope = Mapping[str, str]
"""Envelope fields of the event a vault operation records (``event_id``, ``occurred_at``,
``late_entry_reason``)."""
_EVENT_IDS = uuid5(NAMESPACE_URL, "https://bloodtrace.dev/vault")


class Identity(BaseModel):
    """A donor's personal data: only ever stored sealed, never in the log."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    national_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    birth_date: date
    sex: Literal["F", "M", "X"]
    phone: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=500)
    language: str | None = Field(default=None, max_length=35)


@dataclass(frozen=True, slots=True)
class Registered:
    donor_id: str
    existing: bool
    result: AppendResult | None = None


def event_id_for(kind: str, donor_id: str) -> UUID:
    """The id of the one ``kind`` event a donor's vault record leads to (idempotent)."""
    return uuid5(_EVENT_IDS, f"{kind}:{donor_id}")


def may_read_identities(actor: Actor, site_kind: str | None) -> bool:
    """Admins, and collector or processing keys of a blood bank."""
    return actor.role == ADMIN or (actor.role in IDENTITY_READERS
                                   and site_kind in IDENTITY_SITE_KINDS)


class Vault:
    """The identity vault of one database, with its master key (through ``wrapper``) and
    the network's pepper."""

    def __init__(self, pool: asyncpg.Pool, writer: Writer, wrapper: KeyWrapper,
                 pepper: bytes, source: str = "") -> None:
        self._pool = pool
        self._writer = writer
        self._wrapper = wrapper
        self._pepper = pepper
        self.source = source

    def pseudonym(self, national_id: str) -> str:
        return rules.pseudonym(self._pepper, national_id)

    @asynccontextmanager
    async def _connection(self, con: Conn | None) -> AsyncIterator[Conn]:
        """``con``, the caller's, or else one of the pool's. A request that holds a
        connection passes it: were it to wait for a second one, as many such requests at
        once as the pool has connections would each hold one and wait forever."""
        if con is not None:
            yield con
            return
        with map_driver_errors():
            async with self._pool.acquire() as own:
                yield own

    async def check_keys(self) -> None:
        """Store the check values on first start; on later starts refuse a wrong master key
        or pepper (``VaultKeyMismatch``), before anything is served."""
        pepper_check = hmac.new(self._pepper, PEPPER_CHECK, hashlib.sha256).digest()
        made = store.KeyCheck(self._wrapper.key_id, check_value(self._wrapper), pepper_check)
        async with self._pool.acquire() as con:
            stored = await store.key_check(con, made)
        try:
            verify_check_value(self._wrapper, stored.master_check)
        except VaultKeyMismatch:
            raise VaultKeyMismatch(
                f"the vault master key ({self.source or 'configured'}, {self._wrapper.key_id})"
                f" is not the key this database's vault was made with ({stored.key_id}); "
                "refusing to start. Restore the right BLOODTRACE_VAULT_MASTER_KEY or "
                "vault_master_key_file.") from None
        if not hmac.compare_digest(stored.pepper_check, pepper_check):
            raise VaultKeyMismatch(
                "the vault pepper is not the one this database's pseudonyms were made with; "
                "refusing to start (pseudonyms would no longer match their people). Restore "
                "the right BLOODTRACE_VAULT_PEPPER or vault_pepper_file.")

    async def _append(self, actor: Actor, type_: str, data: dict[str, object],
                      event_id: UUID, **envelope: object) -> AppendResult:
        raw = {"type": type_, "data": data, "event_id": str(event_id)} | {
            k: v for k, v in envelope.items() if v is not None}
        cmd, content, _ = command_from_json(raw, actor, datetime.now(UTC))
        return await self._writer.append(cmd, content)

    async def register(self, actor: Actor, person: Identity, *,
                       occurred_at: datetime | None = None,
                       late_entry_reason: str | None = None) -> Registered:
        """The person's pseudonym; a new one is sealed into the vault and registered.
        ``occurred_at`` and ``late_entry_reason`` date a registration entered late (the
        simulator's backfilled history), as in an event's envelope."""
        donor_id = self.pseudonym(person.national_id)
        normalised = person.model_copy(
            update={"national_id": rules.normalise_national_id(person.national_id)})
        salt = os.urandom(16)
        plain = normalised.model_dump(mode="json")
        sealed = seal(self._wrapper, donor_id, orjson.dumps(
            plain | {"salt": base64.b64encode(salt).decode()}))
        index = rules.name_dob_index(self._pepper, person.name, person.birth_date)
        with map_driver_errors():
            async with self._pool.acquire() as con:
                await self._finish_shreds(con, [donor_id])
                inserted = await store.insert(con, donor_id, sealed.key_id, sealed.wrapped_key,
                                              sealed.ciphertext, index, actor.site_id)
                row = None if inserted else await store.get(con, donor_id)
        if row is not None:
            if row.shredded_at is not None:
                raise DonorIdentityShredded(
                    f"donor {donor_id} was erased; the identity cannot be registered again "
                    "under the same pseudonym", field="national_id", donor_id=donor_id)
            plain, salt = self._open(row)  # the vault row stands, as first written
        data: dict[str, object] = {
            "donor_id": donor_id, "sex": plain["sex"],
            "birth_year": date.fromisoformat(str(plain["birth_date"])).year,
            "identity_commitment": rules.commitment(plain, salt)}
        try:
            result = await self._append(
                actor, "DonorRegistered", data, event_id_for("DonorRegistered", donor_id),
                occurred_at=occurred_at.isoformat() if occurred_at else None,
                late_entry_reason=late_entry_reason)
        except (AlreadyExists, IdempotencyConflict):
            return Registered(donor_id, existing=True)
        return Registered(donor_id, existing=result.replayed, result=result)

    def _open(self, row: store.VaultRow) -> tuple[dict[str, object], bytes]:
        if row.wrapped_key is None or row.ciphertext is None:
            raise DonorIdentityShredded(f"the identity of donor {row.donor_id} was erased",
                                        donor_id=row.donor_id)
        try:
            opened = open_sealed(self._wrapper, row.donor_id, row.ciphertext, row.wrapped_key)
        except VaultKeyMismatch:
            # The master key passed its check at start: this row's key was changed or moved.
            raise VaultTampered(f"the identity of donor {row.donor_id} does not open: its "
                                "wrapped key was changed or belongs to another row") from None
        plain = orjson.loads(opened)
        salt = base64.b64decode(plain.pop("salt"))
        return plain, salt

    async def site_kind(self, site_id: str | None, con: Conn | None = None) -> str | None:
        if site_id is None:
            return None
        async with self._connection(con) as c:
            kind: str | None = await c.fetchval(
                "SELECT body->>'site_kind' FROM write_state WHERE kind = 'site' AND id = $1",
                site_id)
        return kind

    async def require_reader(self, actor: Actor, con: Conn | None = None) -> None:
        """``IdentityAccessDenied`` unless the actor may read identities at all."""
        if not may_read_identities(actor, await self.site_kind(actor.site_id, con)):
            raise IdentityAccessDenied(
                f"a {actor.role} key of {actor.site_id or 'no site'} may not read donor "
                "identities")

    @staticmethod
    async def _finish_shreds(con: Conn, donor_ids: list[str]) -> None:
        """Destroy the keys of donors the log says were shredded (idempotent)."""
        for donor_id in await store.shredded_in_log(con, donor_ids):
            await store.shred(con, donor_id)

    async def _row(self, donor_id: str, con: Conn | None) -> store.VaultRow:
        async with self._connection(con) as c:
            await self._finish_shreds(c, [donor_id])
            row = await store.get(c, donor_id)
            registered = row is not None and await c.fetchval(
                "SELECT true FROM write_state WHERE kind = 'donor' AND id = $1", donor_id)
        if row is None or not registered:
            raise DonorIdentityNotFound(f"the vault holds no identity for donor {donor_id}",
                                        field="donor_id")
        if row.shredded_at is not None:
            raise DonorIdentityShredded(f"the identity of donor {donor_id} was erased",
                                        field="donor_id")
        return row

    async def read(self, actor: Actor, donor_id: str, purpose: str, *,
                   envelope: Envelope | None = None, con: Conn | None = None
                   ) -> dict[str, object]:
        """The identity, once ``DonorIdentityViewed`` is in the log (no event, no read).
        ``envelope`` may give the event's ``event_id``, ``occurred_at`` and
        ``late_entry_reason`` (the simulator's backfilled reads); ``con``, a connection the
        caller holds (``_connection``)."""
        plain, _ = await self._read(actor, donor_id, purpose, envelope, con)
        return plain

    async def _read(self, actor: Actor, donor_id: str, purpose: str,
                    envelope: Envelope | None, con: Conn | None
                    ) -> tuple[dict[str, object], bytes]:
        await self.require_reader(actor, con)
        row = await self._row(donor_id, con)
        data: dict[str, object] = {"donor_id": donor_id, "purpose": purpose}
        if actor.site_id is not None:
            data["site_id"] = actor.site_id
        given = dict(envelope or {})
        await self._append(actor, "DonorIdentityViewed", data,
                           UUID(given.pop("event_id", None) or str(uuid4())), **given)
        return self._open(row)

    async def read_checked(self, actor: Actor, donor_id: str, purpose: str, *,
                           con: Conn | None = None
                           ) -> tuple[dict[str, object], dict[str, object]]:
        """``read``, and whether the identity still matches the commitment the log took at
        registration (``{"identity_commitment", "matches"}``): the vault row was not changed
        since, or was changed, which the log alone would never show."""
        plain, salt = await self._read(actor, donor_id, purpose, None, con)
        async with self._connection(con) as c:
            logged = await store.registered_commitment(c, donor_id)
        matches = logged is not None and hmac.compare_digest(
            logged, rules.commitment(plain, salt))
        return plain, {"identity_commitment": logged, "matches": matches}

    async def read_many(self, actor: Actor, donor_ids: Sequence[str], purpose: str, *,
                        con: Conn | None = None) -> dict[str, dict[str, object]]:
        """The readable identities among ``donor_ids`` (each read recorded); donors with no
        identity held, or an erased one, are left out."""
        found: dict[str, dict[str, object]] = {}
        for donor_id in donor_ids:
            try:
                found[donor_id] = await self.read(actor, donor_id, purpose, con=con)
            except (DonorIdentityNotFound, DonorIdentityShredded):
                continue
        return found

    async def search(self, actor: Actor, national_id: str | None, name: str | None,
                     birth_date: date | None) -> list[str]:
        """The registered donors matching a national id, or a name and a birth date."""
        await self.require_reader(actor)
        with map_driver_errors():
            async with self._pool.acquire() as con:
                if national_id is not None:
                    candidates = [self.pseudonym(national_id)]
                else:
                    assert name is not None and birth_date is not None
                    candidates = await store.by_name_dob(
                        con, rules.name_dob_index(self._pepper, name, birth_date))
                await self._finish_shreds(con, candidates)
                rows = await con.fetch(
                    """SELECT v.donor_id FROM donor_vault v JOIN write_state w
                         ON w.kind = 'donor' AND w.id = v.donor_id
                       WHERE v.donor_id = ANY($1::text[]) AND v.shredded_at IS NULL
                       ORDER BY v.donor_id""", candidates)
        return [r["donor_id"] for r in rows]

    async def shred(self, actor: Actor, donor_id: str, reason: str, *,
                    envelope: Envelope | None = None) -> AppendResult:
        """Record ``DonorIdentityShredded``, then destroy the data key. Both steps are
        idempotent, so an interrupted shred is finished by running it again (``envelope``:
        ``occurred_at`` and ``late_entry_reason``, as for ``read``)."""
        if actor.role != ADMIN:
            raise IdentityAccessDenied("only an admin erases an identity")
        with map_driver_errors():
            async with self._pool.acquire() as con:
                row = await store.get(con, donor_id)
        if row is None:
            raise DonorIdentityNotFound(f"the vault holds no identity for donor {donor_id}",
                                        field="donor_id")
        try:
            given = {k: v for k, v in (envelope or {}).items() if k != "event_id"}
            result = await self._append(actor, "DonorIdentityShredded",
                                        {"donor_id": donor_id, "reason": reason},
                                        event_id_for("DonorIdentityShredded", donor_id),
                                        **given)
        except IdempotencyConflict:
            result = None  # shredded before, with another reason: the key goes all the same
        with map_driver_errors():
            async with self._pool.acquire() as con:
                await store.shred(con, donor_id)
        if result is None:
            raise DonorIdentityShredded(f"the identity of donor {donor_id} was already erased",
                                        field="donor_id")
        return result

