"""The log as a witness reads it: over its HTTP API, with httpx."""

from __future__ import annotations

import binascii

import httpx

from app.log.witness import WitnessRefusal


class HttpLog:
    """The log's HTTP API (``/v1/checkpoints/latest``, ``/v1/proofs/consistency``)."""

    def __init__(self, base_url: str, client: httpx.Client | None = None) -> None:
        self.client = client or httpx.Client(base_url=base_url.rstrip("/"), timeout=30)

    def _get(self, path: str, **params: int) -> dict[str, object]:
        response = self.client.get(path, params=params)
        if response.status_code != 200:
            raise WitnessRefusal(f"GET {path}: HTTP {response.status_code} {response.text[:200]}")
        body: dict[str, object] = response.json()
        return body

    def latest_note(self) -> str:
        return str(self._get("/v1/checkpoints/latest")["note"])

    def consistency(self, from_size: int, to_size: int) -> list[bytes]:
        body = self._get("/v1/proofs/consistency", from_size=from_size, to_size=to_size)
        proof = body.get("proof")
        if not isinstance(proof, list):
            raise WitnessRefusal("the consistency proof is malformed")
        return [binascii.a2b_base64(str(h)) for h in proof]
