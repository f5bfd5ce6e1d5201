"""The verifiable log over HTTP: signed checkpoints, RFC 9162 proofs, keys and the export.

Hashes are base64 (standard alphabet, as in C2SP checkpoints). A proof's tree size defaults to
the latest signed checkpoint, so that every proof here verifies against a signed root.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from app.api.access import reads_everything, require_national, require_unit
from app.api.deps import ActorDep, ReadConDep, ReadPoolDep, SettingsDep
from app.api.params import StreamRefPath
from app.api.redact import feed_view
from app.api.responses import PROBLEMS, FastJSON
from app.errors import InvalidInput, NoCheckpoint, UnitNotFound
from app.events import isbt
from app.log.bundle import build_bundle
from app.log.checkpoints import SignedCheckpoint
from app.log.encoding import b64
from app.log.tlog_proof import format_proofs
from app.store.checkpoint_store import (
    checkpoint_at,
    key_manifest,
    latest_checkpoint,
    recent_checkpoints,
)
from app.store.conn import Conn
from app.store.errors import map_driver_errors
from app.store.export_reader import open_export
from app.store.proof_reader import consistency_proof, inclusion_proof, unit_records_with_proofs

router = APIRouter(tags=["verifiable log"])
Size = Annotated[int, Query(ge=1, le=2**62)]
SizePath = Annotated[int, Path(ge=1, le=2**62, description="a tree size")]


class CheckpointOut(BaseModel):
    origin: str
    size: int
    root: str
    chain_head: str
    note: str
    """The C2SP signed note as the log signed it, with the witnesses' cosignatures appended."""
    created_at: datetime
    cosignatures: int
    """How many configured witnesses cosigned this checkpoint (tlog-witness)."""
    witness_quorum: int
    witnessed: bool
    """At least ``witness_quorum`` witnesses cosigned it."""


class CheckpointsOut(BaseModel):
    """Signed checkpoints, largest first; the next page is ``?before=next_before`` (null on
    the last page)."""

    checkpoints: list[CheckpointOut]
    next_before: int | None


class InclusionOut(BaseModel):
    position: int
    leaf_index: int
    tree_size: int
    leaf_hash: str
    proof: list[str]
    root: str


class ConsistencyOut(BaseModel):
    from_size: int
    to_size: int
    proof: list[str]
    from_root: str
    to_root: str


class KeyOut(BaseModel):
    vkey: str
    name: str
    key_id: str
    valid_from: datetime
    valid_until: datetime | None


class KeysOut(BaseModel):
    origin: str
    keys: list[KeyOut]


class BundleRecord(BaseModel):
    position: int
    record: str
    proof: list[str]


class UnitBundle(BaseModel):
    format: str
    unit_id: str
    checkpoint: str
    records: list[BundleRecord]
    withheld: list[int] = []
    """Positions of records the key may not read whole, left out of the bundle."""


async def _latest(con: Conn, origin: str) -> SignedCheckpoint:
    signed = await latest_checkpoint(con, origin)
    if signed is None:
        raise NoCheckpoint("no checkpoint has been signed yet")
    return signed


def _checkpoint(signed: SignedCheckpoint, quorum: int) -> dict[str, Any]:
    cp = signed.checkpoint
    return {"origin": cp.origin, "size": cp.size, "root": b64(cp.root),
            "chain_head": b64(cp.chain_head or b""), "note": signed.note,
            "created_at": signed.created_at, "cosignatures": signed.cosignatures,
            "witness_quorum": quorum, "witnessed": signed.cosignatures >= quorum}


@router.get("/v1/checkpoints/latest", response_model=CheckpointOut, responses=PROBLEMS)
async def latest(con: ReadConDep, settings: SettingsDep) -> Response:
    """The latest signed checkpoint (tree size, Merkle root, chain head) as a C2SP note, and
    how many witnesses cosigned it."""
    return FastJSON(_checkpoint(await _latest(con, settings.log_origin),
                                settings.witness_quorum))


@router.get("/v1/checkpoints/latest/note", response_class=PlainTextResponse,
            responses=PROBLEMS)
async def latest_note(con: ReadConDep, settings: SettingsDep) -> Response:
    """The latest signed checkpoint as bare note text, as C2SP witnesses and tools read it,
    with the witnesses' cosignature lines appended."""
    signed = await _latest(con, settings.log_origin)
    return PlainTextResponse(signed.note, media_type="text/plain; charset=utf-8")


@router.get("/v1/checkpoints", response_model=CheckpointsOut, responses=PROBLEMS)
async def checkpoints(
    con: ReadConDep, settings: SettingsDep,
    before: Annotated[int | None, Query(ge=1, le=2**62, description="a tree size")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    """The signed checkpoints, largest tree first (below ``before`` when given): what an
    auditor picks two from to check that the later extends the earlier."""
    found = await recent_checkpoints(con, settings.log_origin, limit, before)
    return FastJSON({"checkpoints": [_checkpoint(s, settings.witness_quorum) for s in found],
                     "next_before": found[-1].checkpoint.size if len(found) == limit else None})


@router.get("/v1/checkpoints/{size}", response_model=CheckpointOut, responses=PROBLEMS)
async def checkpoint_of_size(con: ReadConDep, settings: SettingsDep, size: SizePath) -> Response:
    """The checkpoint signed at exactly ``size`` records, with its cosignatures: with
    ``/v1/proofs/consistency`` it lets anyone check that a later tree extends it."""
    signed = await checkpoint_at(con, size, settings.log_origin)
    if signed is None:
        raise NoCheckpoint(f"no checkpoint was signed at size {size}", field="size")
    return FastJSON(_checkpoint(signed, settings.witness_quorum))


@router.get("/v1/proofs/inclusion", response_model=InclusionOut, responses=PROBLEMS)
async def inclusion(
    con: ReadConDep, settings: SettingsDep, position: Size, tree_size: Size | None = None
) -> Response:
    """RFC 9162 inclusion proof of record ``position`` in the tree of ``tree_size`` records
    (default: the latest checkpoint's)."""
    size = tree_size or (await _latest(con, settings.log_origin)).checkpoint.size
    proof = await inclusion_proof(con, position, size)
    return FastJSON({"position": proof.position, "leaf_index": proof.leaf_index,
                     "tree_size": proof.tree_size, "leaf_hash": b64(proof.leaf_hash),
                     "proof": [b64(h) for h in proof.proof], "root": b64(proof.root)})


@router.get("/v1/proofs/consistency", response_model=ConsistencyOut, responses=PROBLEMS)
async def consistency(
    con: ReadConDep, settings: SettingsDep, from_size: Size, to_size: Size | None = None
) -> Response:
    """RFC 9162 consistency proof that the tree of ``to_size`` (default: the latest
    checkpoint's) extends the tree of ``from_size``."""
    size = to_size or (await _latest(con, settings.log_origin)).checkpoint.size
    proof = await consistency_proof(con, from_size, size)
    return FastJSON({"from_size": proof.from_size, "to_size": proof.to_size,
                     "proof": [b64(h) for h in proof.proof], "from_root": b64(proof.from_root),
                     "to_root": b64(proof.to_root)})


@router.get("/v1/proofs/units/{unit_id}", response_model=UnitBundle, responses=PROBLEMS)
async def unit_bundle(
    actor: ActorDep, con: ReadConDep, settings: SettingsDep, unit_id: StreamRefPath,
    proof_format: Annotated[Literal["bundle", "tlog-proof"], Query(
        alias="format", description="bundle (JSON), or c2sp.org/tlog-proof@v1 text: one proof "
                                    "per record, its record in the extra line")] = "bundle",
) -> Response:
    """The unit's records with inclusion proofs under the latest checkpoint: a bundle that
    ``bloodtrace verify-unit`` checks offline. Read rules as for the unit itself. Records are
    the exact bytes that were hashed, so a record a site key may not read whole (it names a
    patient the site does not treat, or other sites' part of a lookback) is left out and its
    position listed in ``withheld``; every record given still verifies."""
    try:
        canonical = isbt.parse_unit_id(unit_id, "unit_id")
    except InvalidInput:  # not an ISBT 128 unit id: the log may still name it
        canonical = unit_id
    if not reads_everything(actor):
        await require_unit(con, actor, canonical, canonical.split("-", 1)[0])
    signed = await _latest(con, settings.log_origin)
    records = await unit_records_with_proofs(con, canonical, signed.checkpoint.size)
    if not records:
        raise UnitNotFound(f"no record of unit {canonical} up to checkpoint "
                           f"{signed.checkpoint.size}", field="unit_id")
    entries = await feed_view(con, actor, [orjson.loads(r) for _, r, _ in records])
    withheld = [p for (p, _, _), e in zip(records, entries, strict=True) if e.get("redacted")]
    given = [r for r in records if r[0] not in withheld]
    if proof_format == "tlog-proof":
        return PlainTextResponse(format_proofs(signed.note, given),
                                 media_type="text/plain; charset=utf-8")
    bundle = build_bundle(canonical, signed.note, given)
    return FastJSON(bundle | {"withheld": withheld})


@router.get("/v1/keys", response_model=KeysOut, responses=PROBLEMS)
async def keys(con: ReadConDep, settings: SettingsDep) -> Response:
    """The manifest of the keys that sign checkpoints, with their validity windows."""
    return FastJSON({"origin": settings.log_origin, "keys": await key_manifest(con)})


@router.get("/v1/export", responses={
    200: {"content": {"application/x-ndjson": {}},
          "description": "JSON lines: header, keys, start, records and checkpoints"},
    **PROBLEMS,
})
async def export(
    actor: ActorDep, pool: ReadPoolDep, settings: SettingsDep,
    from_: Annotated[int, Query(alias="from", ge=1, le=2**62)] = 1,
    to: Size | None = None,
) -> Response:
    """Stream records ``from``..``to`` with every checkpoint and key needed to verify them
    offline (``bloodtrace verify-export``). ``to`` defaults to the latest checkpoint and is
    otherwise rounded up to the next one, so the export ends on a signed tree head.
    The whole log holds every pseudonym: auditor and admin keys only."""
    require_national(actor, "the export")
    with map_driver_errors():  # past the first chunk, a lost database ends the stream
        lines = await open_export(pool, settings.log_origin, from_, to)
    return StreamingResponse(lines, media_type="application/x-ndjson", headers={
        "Content-Disposition": 'attachment; filename="bloodtrace-export.jsonl"'})
