"""Key administration for admin keys: create (the key is shown once) and revoke."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from starlette.responses import Response

from app.api import access
from app.api.body import parse_model, read_json
from app.api.deps import (
    ActorDep,
    ConDep,
    PoolDep,
    ServicesDep,
    SettingsDep,
    connection,
    key_cache,
)
from app.api.openapi import json_body
from app.api.params import IDENT, IdentPath
from app.api.responses import FastJSON, problems
from app.errors import InvalidInput, NotFound
from app.store.api_keys_admin import revoke_key
from app.store.keys import NATIONAL_ROLES, create_key

router = APIRouter(tags=["admin"])

Role = Literal["collector", "lab", "processing", "inventory", "hospital", "auditor", "admin"]


class KeyIn(BaseModel):
    """A new key: national roles (auditor, admin) have no site; every other role needs one."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"role": "hospital", "site_id": "H-DAM-01", "label": "blood bank fridge terminal"},
        {"role": "auditor"},
    ]})

    role: Role
    site_id: str | None = Field(default=None, pattern=IDENT,
                                validation_alias=AliasChoices("site_id", "site"),
                                description="the key's site (`site` is accepted too)")
    label: str | None = Field(default=None, max_length=200, pattern=r"^[^\x00-\x1f]*$",
                              description="free text, no control characters")


class KeyOut(BaseModel):
    """The key itself is in ``key``; it is shown here once and never again."""

    key_id: str
    key: str
    role: str
    site_id: str | None
    label: str | None


@router.post("/v1/admin/keys", status_code=201, response_model=KeyOut,
             responses=problems(400, 401, 403, 408, 413, 415, 422, 429, 503),
             openapi_extra=json_body(KeyIn))
async def create_api_key(
    request: Request, actor: ActorDep, pool: PoolDep, settings: SettingsDep
) -> Response:
    """Create an API key. Only its SHA-256 is stored: save ``key`` now."""
    access.require_admin(actor)
    # The body is read before a connection is taken: a slow sender holds no pool slot.
    body = parse_model(KeyIn, await read_json(request, settings))
    if (body.role in NATIONAL_ROLES) != (body.site_id is None):
        raise InvalidInput("auditor and admin keys have no site_id; every other role needs one",
                           field="site_id")
    async with connection(pool) as con:
        issued = await create_key(con, body.role, body.site_id, body.label)
    return FastJSON({"key_id": issued.key_id, "key": issued.token, "role": issued.role,
                     "site_id": issued.site_id, "label": body.label}, status_code=201)


@router.delete("/v1/admin/keys/{key_id}", status_code=204,
               responses=problems(401, 403, 404, 422, 429, 503))
async def revoke_api_key(
    key_id: IdentPath,
    actor: ActorDep, con: ConDep, services: ServicesDep,
) -> Response:
    """Revoke a key. It is refused from the next request on, in every server process."""
    access.require_admin(actor)
    if not await revoke_key(con, key_id):
        raise NotFound(f"no active key {key_id!r}", field="key_id")
    # Every process (this one too) hears of it when the revocation commits; dropping it
    # here as well spares this process even the instant that announcement takes.
    key_cache(services).revoked(key_id)
    return Response(status_code=204)
