"""The signed checkpoints over HTTP, listed and by size: what the audit page and anyone else
need to check in their own code that a later tree extends an earlier one."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.log import merkle
from app.log import notes as N
from tests.support.verifiable import ORIGIN, fill, verifiable_client

SIGNER = N.NoteSigner(ORIGIN, Ed25519PrivateKey.from_private_bytes(b"c" * 32))
KEYS = [SIGNER.verifier]


def _hashes(values: list[str]) -> list[bytes]:
    return [N.unb64(h, "hash") for h in values]


async def test_checkpoints_are_listed_largest_first_and_served_by_size(fresh_db, open_for):
    await fill(open_for, fresh_db, [10, 10, 10, 10], SIGNER)  # checkpoints at 10, 20, 30, 40
    async with open_for(fresh_db) as services, verifiable_client(services) as client:
        listed = (await client.get("/v1/checkpoints")).json()
        assert [c["size"] for c in listed["checkpoints"]] == [40, 30, 20, 10]
        assert listed["next_before"] is None
        page = (await client.get("/v1/checkpoints", params={"limit": 2})).json()
        assert ([c["size"] for c in page["checkpoints"]], page["next_before"]) == ([40, 30], 30)
        rest = (await client.get("/v1/checkpoints", params={"before": 30})).json()
        assert [c["size"] for c in rest["checkpoints"]] == [20, 10]
        for entry in listed["checkpoints"]:
            cp, _ = N.open_checkpoint(entry["note"], KEYS)
            assert (cp.size, N.b64(cp.root)) == (entry["size"], entry["root"])
        older = (await client.get("/v1/checkpoints/20")).json()
        newer = (await client.get("/v1/checkpoints/40")).json()
        first, _ = N.open_checkpoint(older["note"], KEYS)
        second, _ = N.open_checkpoint(newer["note"], KEYS)
        proof = (await client.get("/v1/proofs/consistency",
                                  params={"from_size": 20, "to_size": 40})).json()
        merkle.verify_consistency(20, 40, _hashes(proof["proof"]), first.root, second.root)
        latest = (await client.get("/v1/checkpoints/latest")).json()
        assert latest == newer
        for path, status in [("/v1/checkpoints/25", 404), ("/v1/checkpoints/0", 422),
                             ("/v1/checkpoints/x", 422), ("/v1/checkpoints?limit=0", 422),
                             ("/v1/checkpoints?before=0", 422)]:
            response = await client.get(path)
            assert response.status_code == status, (path, response.text)
            assert response.headers["content-type"] == "application/problem+json"
        missing = (await client.get("/v1/checkpoints/25")).json()
        assert missing["type"].endswith("no-checkpoint") and missing.get("field") == "size"


async def test_no_checkpoint_yet_is_an_empty_list(fresh_db, open_for):
    async with open_for(fresh_db) as services, verifiable_client(services) as client:
        listed = (await client.get("/v1/checkpoints")).json()
        assert listed == {"checkpoints": [], "next_before": None}
