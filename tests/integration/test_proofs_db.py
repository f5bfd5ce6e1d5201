"""Proofs and checkpoints on real PostgreSQL: proofs from the stored Merkle nodes verify at
every size, checkpoints sign only what the stored tree backs, and the tables are append-only."""

from __future__ import annotations

import random
import stat

import asyncpg
import pytest

from app.config import Settings
from app.errors import InvalidProofRequest, ProofUnavailable
from app.log import merkle
from app.log import notes as N
from app.log.checkpoints import (
    InconsistentLogError,
    SigningKeyError,
    parse_private_keys,
    private_key_pem,
)
from app.signing_keys import load_signers
from app.store.checkpoint_store import make_checkpoint, register_keys, retire_key
from app.store.proof_reader import consistency_proof, inclusion_proof, inclusion_proofs, root_at
from tests.support.factories import note
from tests.support.ledger_domain import LedgerDomain

ORIGIN = "bloodtrace.test/log"


async def fill(open_for, url: str, sizes: list[int]) -> None:
    """Append batches of these sizes (so compact ranges cross many commits)."""
    async with open_for(url, domain=LedgerDomain(), inline=()) as s:
        for i, size in enumerate(sizes):
            await s.writer.append_many([note(f"s{(i + k) % 5}") for k in range(size)])


async def leaves(con) -> list[bytes]:
    return [r[0] for r in await con.fetch("SELECT leaf_hash FROM events ORDER BY position")]


@pytest.fixture
def signer(tmp_path) -> N.NoteSigner:
    return load_signers(Settings(data_dir=tmp_path, log_origin=ORIGIN))[0]


async def test_proofs_from_stored_nodes_verify_at_every_size(fresh_db, open_for):
    await fill(open_for, fresh_db, [1, 2, 3, 7, 1, 60, 1, 13, 40, 2])
    con = await asyncpg.connect(fresh_db)
    try:
        hashes = await leaves(con)
        n = len(hashes)
        rng = random.Random(6)
        for size in range(1, n + 1):
            root = await root_at(con, size)
            assert root == merkle.root(hashes[:size])
            position = rng.randint(1, size)
            proof = await inclusion_proof(con, position, size)
            assert proof.leaf_hash == hashes[position - 1]
            merkle.verify_inclusion(proof.leaf_hash, position - 1, size, proof.proof, root)
            old = rng.randint(1, size)
            cons = await consistency_proof(con, old, size)
            merkle.verify_consistency(old, size, cons.proof, cons.from_root, root)
            assert cons.from_root == merkle.root(hashes[:old])
        batch = await inclusion_proofs(con, list(range(1, n + 1)), n)
        for p in batch:
            merkle.verify_inclusion(p.leaf_hash, p.leaf_index, n, p.proof, p.root)
        with pytest.raises(ProofUnavailable):
            await inclusion_proof(con, 1, n + 1)
        with pytest.raises(ProofUnavailable):
            await consistency_proof(con, 3, n + 1)
        for bad in ((0, n), (n + 1, n), (-1, 5)):
            with pytest.raises(InvalidProofRequest):
                await inclusion_proof(con, *bad)
        with pytest.raises(InvalidProofRequest):
            await consistency_proof(con, 5, 4)
        with pytest.raises(InvalidProofRequest):
            await consistency_proof(con, 0, 4)
    finally:
        await con.close()


async def test_checkpoints_sign_the_head_once_and_verify(fresh_db, open_for, signer):
    con = await asyncpg.connect(fresh_db)
    try:
        assert await make_checkpoint(con, [signer], ORIGIN) is None  # empty log
        await fill(open_for, fresh_db, [5, 20])
        first = await make_checkpoint(con, [signer], ORIGIN)
        assert first is not None and first.checkpoint.size == 25
        cp, good = N.open_checkpoint(first.note, [signer.verifier])
        assert cp == first.checkpoint and good == [signer.verifier]
        assert cp.root == merkle.root(await leaves(con))
        head = await con.fetchval("SELECT chain_hash FROM log_head")
        assert cp.chain_head == head
        assert await make_checkpoint(con, [signer], ORIGIN) is None  # nothing new
        await fill(open_for, fresh_db, [3])
        second = await make_checkpoint(con, [signer], ORIGIN)
        assert second is not None and second.checkpoint.size == 28
    finally:
        await con.close()


async def test_a_head_that_stored_nodes_do_not_back_is_never_signed(fresh_db, open_for, signer):
    await fill(open_for, fresh_db, [9])
    owner = await asyncpg.connect(fresh_db)
    try:
        assert await make_checkpoint(owner, [signer], ORIGIN) is not None
        await fill(open_for, fresh_db, [7])
        await owner.execute("SET session_replication_role = replica")  # triggers off
        for level, idx in ((4, 0), (0, 8)):  # the head's root; a node the proof from 9 needs
            saved = await owner.fetchval(
                "SELECT hash FROM merkle_nodes WHERE level = $1 AND idx = $2", level, idx)
            await owner.execute("UPDATE merkle_nodes SET hash = $3 WHERE level = $1 AND idx = $2",
                                level, idx, bytes(32))
            with pytest.raises(InconsistentLogError):
                await make_checkpoint(owner, [signer], ORIGIN)
            await owner.execute("UPDATE merkle_nodes SET hash = $3 WHERE level = $1 AND idx = $2",
                                level, idx, saved)
        assert await make_checkpoint(owner, [signer], ORIGIN) is not None
    finally:
        await owner.close()


async def test_checkpoints_and_keys_are_append_only_for_the_service(fresh_db, open_for, signer):
    await fill(open_for, fresh_db, [4])
    async with open_for(fresh_db, domain=LedgerDomain(), inline=()) as s:
        async with s.pool.acquire() as con:
            assert await register_keys(con, [signer]) == [signer]
            assert await make_checkpoint(con, [signer], ORIGIN) is not None
            for statement in ("UPDATE checkpoints SET size = 9", "DELETE FROM checkpoints",
                              "TRUNCATE checkpoints", "DELETE FROM signing_keys",
                              "UPDATE signing_keys SET name = 'x'"):
                with pytest.raises(asyncpg.PostgresError):
                    await con.execute(statement)
            vkey = str(signer.verifier)
            assert await retire_key(con, vkey)
            assert not await retire_key(con, vkey)  # once
            with pytest.raises(asyncpg.PostgresError):
                await con.execute("UPDATE signing_keys SET valid_until = NULL")
            assert await register_keys(con, [signer]) == []  # a retired key no longer signs


def test_a_key_is_generated_once_with_owner_only_access(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", log_origin=ORIGIN)
    first = load_signers(settings)
    path = tmp_path / "data" / "signing-key.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [str(s.verifier) for s in load_signers(settings)] == [str(first[0].verifier)]


def test_rotation_keys_from_one_pem_and_from_the_environment(tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    pem = private_key_pem(old) + private_key_pem(new)
    (tmp_path / "keys.pem").write_bytes(pem)
    from_file = load_signers(Settings(signing_key_file=tmp_path / "keys.pem", log_origin=ORIGIN))
    inline = pem.decode().replace("\n", "\\n")
    from_env = load_signers(Settings(signing_key=inline, log_origin=ORIGIN))
    assert [str(s.verifier) for s in from_file] == [str(s.verifier) for s in from_env]
    assert len(from_file) == 2
    with pytest.raises(SigningKeyError):
        parse_private_keys(b"not a key")
    with pytest.raises(SigningKeyError):
        load_signers(Settings(signing_key_file=tmp_path / "missing.pem"))


async def test_the_checkpointer_signs_every_n_events_and_on_the_way_out(fresh_db, open_for,
                                                                        tmp_path):
    import asyncio

    from app.store.checkpointer import run_checkpointer

    settings = Settings(database_url=fresh_db, data_dir=tmp_path, log_origin=ORIGIN,
                        checkpoint_every_events=10, checkpoint_every_seconds=3600)
    async with open_for(fresh_db, domain=LedgerDomain(), inline=()) as s:
        stop = asyncio.Event()
        task = asyncio.create_task(run_checkpointer(s.pool, settings, stop))
        for _ in range(3):
            await s.writer.append_many([note("a") for _ in range(12)])
            await asyncio.sleep(0.8)  # a few polls
        await s.writer.append_many([note("a") for _ in range(3)])  # fewer than N: waits
        await asyncio.sleep(0.8)
        async with s.pool.acquire() as con:
            sizes = [r[0] for r in await con.fetch("SELECT size FROM checkpoints ORDER BY size")]
        assert sizes == [12, 24, 36]
        stop.set()
        await asyncio.wait_for(task, 5)
        async with s.pool.acquire() as con:
            assert await con.fetchval("SELECT max(size) FROM checkpoints") == 39
            assert await con.fetchval("SELECT count(*) FROM signing_keys") == 1
