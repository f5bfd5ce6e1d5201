"""The tlog-witness v1.0.0 server against the spec, status code by status code: 200 with a
cosignature/v1 line, 404, 403, 400, 409 (``text/x.tlog.size``), 422; and, after a restart on
the same state file, a fork and a shrink are still refused. No Python tlog-witness client is
reachable from here, so the requests are built by hand from the spec's text."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.log import merkle as M
from app.log import notes as N
from app.log.encoding import b64
from app.witness.server import witness_app
from app.witness.state_db import WitnessStore

ORIGIN = "bloodtrace.dev/log"
LOG = N.NoteSigner(ORIGIN, Ed25519PrivateKey.from_private_bytes(b"L" * 32))
WITNESS = N.NoteSigner("ngo.example/w", Ed25519PrivateKey.from_private_bytes(b"W" * 32),
                       N.COSIGNATURE_V1)


class Tree:
    """A log's Merkle tree, with every node kept, to sign heads and prove consistency."""

    def __init__(self, seed: bytes = b"") -> None:
        self.seed, self.nodes, self.roots = seed, {}, [M.EMPTY_ROOT]
        self.range = M.CompactRange()

    def grow(self, to: int) -> Tree:
        while self.range.size < to:
            leaf = M.leaf_hash(self.seed + b"record %d" % self.range.size)
            for level, index, value in self.range.append(leaf):
                self.nodes[(level, index)] = value
            self.roots.append(self.range.root())
        return self

    def note(self, size: int, signer: N.NoteSigner = LOG, origin: str = ORIGIN) -> str:
        return N.sign_checkpoint(N.Checkpoint(origin, size, self.roots[size]), [signer])

    def proof(self, old: int, new: int) -> list[bytes]:
        return [] if old in (0, new) else M.consistency_proof(old, new, self.nodes)


def body(old: int, proof: list[bytes], note: str) -> bytes:
    return (f"old {old}\n" + "".join(b64(h) + "\n" for h in proof) + "\n" + note).encode()


Client = Callable[..., AsyncIterator[httpx.AsyncClient]]


@pytest.fixture
def served(tmp_path: Path) -> Client:
    """``async with served() as client``: the witness over its state file; each use is a new
    process's view of the same file (a restart)."""

    @asynccontextmanager
    async def open_() -> AsyncIterator[httpx.AsyncClient]:
        store = WitnessStore(tmp_path / "witness.db")
        app = witness_app(store, {ORIGIN: [LOG.verifier]}, WITNESS)
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://w.test") as client:
                yield client
        finally:
            store.close()

    return open_


async def add(client: httpx.AsyncClient, raw: bytes) -> httpx.Response:
    return await client.post("/add-checkpoint", content=raw)


async def test_200_returns_a_timestamped_cosignature_v1_line_and_the_state_moves(served):
    tree = Tree().grow(20)
    async with served() as client:
        first = await add(client, body(0, [], tree.note(10)))
        assert first.status_code == 200, first.text
        assert first.text.startswith("\u2014 ngo.example/w ") and first.text.endswith("\n")
        cosigned = tree.note(10) + first.text
        checkpoint, good = N.open_checkpoint(cosigned, [WITNESS.verifier])
        assert checkpoint.size == 10 and good == [WITNESS.verifier]
        stamp = int.from_bytes(N.parse_note(cosigned).signatures[-1].blob[:8], "big")
        assert stamp > 1_700_000_000  # a real POSIX time, never zero
        second = await add(client, body(10, tree.proof(10, 20), tree.note(20)))
        assert second.status_code == 200, second.text
        monitored = await client.get(f"/{hashlib.sha256(ORIGIN.encode()).hexdigest()}/checkpoint")
        assert monitored.status_code == 200
        assert N.open_checkpoint(monitored.text, [LOG.verifier])[0].size == 20
        assert N.open_checkpoint(monitored.text, [WITNESS.verifier])[0].size == 20


async def test_404_for_an_unknown_origin(served):
    other = N.NoteSigner("other.example/log", Ed25519PrivateKey.from_private_bytes(b"X" * 32))
    tree = Tree().grow(3)
    async with served() as client:
        answer = await add(client, body(0, [], tree.note(3, other, "other.example/log")))
        assert answer.status_code == 404
        absent = await client.get(f"/{hashlib.sha256(b'other.example/log').hexdigest()}"
                                  "/checkpoint")
        assert absent.status_code == 404


@pytest.mark.parametrize("how", ["untrusted key", "bad signature by the trusted key"])
async def test_403_for_a_checkpoint_not_validly_signed_by_the_log(served, how):
    tree = Tree().grow(3)
    if how == "untrusted key":  # same name, another key: not the log's
        note = tree.note(3, N.NoteSigner(ORIGIN, Ed25519PrivateKey.from_private_bytes(b"Y" * 32)))
    else:  # the log's key name and ID, over another tree
        good = tree.note(3)
        forged = N.parse_note(Tree(b"other").grow(3).note(3))
        note = N.Note(N.parse_note(good).text, forged.signatures).format()
    async with served() as client:
        answer = await add(client, body(0, [], note))
        assert answer.status_code == 403, answer.text
        assert (await add(client, body(0, [], tree.note(3)))).status_code == 200


@pytest.mark.parametrize("raw", [
    b"old 5\n\n",  # no checkpoint
    b"old 05\n\n" + Tree().grow(5).note(5).encode(),  # leading zero
    b"new 0\n\n" + Tree().grow(5).note(5).encode(),
    b"old 0\nnot-base64!\n\n" + Tree().grow(5).note(5).encode(),
    b"old 0\n" + b"".join(b64(b"h" * 32).encode() + b"\n" for _ in range(64)) + b"\n"
    + Tree().grow(5).note(5).encode(),  # more than 63 proof lines
])
async def test_400_for_a_malformed_request(served, raw):
    async with served() as client:
        assert (await add(client, raw)).status_code == 400


async def test_400_when_old_is_larger_than_the_checkpoint(served):
    tree = Tree().grow(10)
    async with served() as client:
        answer = await add(client, body(11, [], tree.note(10)))
        assert answer.status_code == 400


async def test_409_with_the_size_held_when_old_is_not_it(served):
    tree = Tree().grow(30)
    async with served() as client:
        assert (await add(client, body(0, [], tree.note(10)))).status_code == 200
        for wrong in (0, 5, 20):
            answer = await add(client, body(wrong, tree.proof(wrong, 30), tree.note(30)))
            assert answer.status_code == 409
            assert answer.headers["content-type"] == "text/x.tlog.size"
            assert answer.content == b"10\n"
        assert (await add(client, body(10, tree.proof(10, 30), tree.note(30)))).status_code == 200


async def test_422_for_a_bad_consistency_proof(served):
    tree = Tree().grow(30)
    async with served() as client:
        assert (await add(client, body(0, [], tree.note(10)))).status_code == 200
        proof = tree.proof(10, 30)
        bad = [proof[0], bytes(32), *proof[2:]]
        assert (await add(client, body(10, bad, tree.note(30)))).status_code == 422
        assert (await add(client, body(10, proof[:-1], tree.note(30)))).status_code == 422
        # a non-empty proof from size 0 is refused too
        fresh = N.sign_checkpoint(N.Checkpoint(ORIGIN, 5, tree.roots[5]), [LOG])
        assert (await add(client, body(0, [bytes(32)], fresh))).status_code in (409, 422)
        assert (await add(client, body(10, proof, tree.note(30)))).status_code == 200


async def test_422_for_a_size_zero_checkpoint_without_the_empty_root(served):
    bad = N.sign_checkpoint(N.Checkpoint(ORIGIN, 0, bytes(32)), [LOG])
    async with served() as client:
        assert (await add(client, body(0, [], bad))).status_code == 422
        assert (await add(client, body(0, [bytes(32)], Tree().grow(4).note(4)))).status_code \
            == 422  # a proof from the empty tree must be empty


async def test_a_fork_is_refused_after_a_restart(served):
    tree, fork = Tree().grow(40), Tree(b"rewritten").grow(40)
    async with served() as client:
        assert (await add(client, body(0, [], tree.note(20)))).status_code == 200
    async with served() as client:  # a new process on the same state file
        same_size = await add(client, body(20, [], fork.note(20)))
        assert same_size.status_code == 422
        longer = await add(client, body(20, fork.proof(20, 40), fork.note(40)))
        assert longer.status_code == 422
        assert (await add(client, body(20, tree.proof(20, 40), tree.note(40)))).status_code \
            == 200


async def test_a_shrink_is_refused_after_a_restart(served):
    tree = Tree().grow(40)
    async with served() as client:
        assert (await add(client, body(0, [], tree.note(40)))).status_code == 200
    async with served() as client:
        shrunk = await add(client, body(40, [], tree.note(25)))
        assert shrunk.status_code == 400  # old 40 > new 25
        restart = await add(client, body(0, [], tree.note(25)))
        assert restart.status_code == 409 and restart.content == b"40\n"
        monitored = await client.get(f"/{hashlib.sha256(ORIGIN.encode()).hexdigest()}/checkpoint")
        assert N.open_checkpoint(monitored.text, [LOG.verifier])[0].size == 40
