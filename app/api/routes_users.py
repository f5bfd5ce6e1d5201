"""Accounts of people, for admins (WEB.md §1): create, list, change, disable, reset the
password, enrol TOTP. Each is an event in the log (``AccountCreated``, ...); a generated
password or TOTP secret is in the answer once and nowhere else."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from app.api import access
from app.api.body import parse_model, read_json
from app.api.deps import ActorDep, ServicesDep, SettingsDep
from app.api.openapi import json_body
from app.api.params import IDENT, IdentPath
from app.api.responses import FastJSON, Row, problems
from app.people.service import people_of

router = APIRouter(tags=["admin"])

Role = Literal["collector", "lab", "processing", "inventory", "hospital", "auditor", "admin"]
WRITE = problems(400, 401, 403, 404, 408, 409, 413, 415, 422, 429, 503)


class ProfileIn(BaseModel):
    """An account's name, role and site (none for auditor and admin)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "Rana Haddad", "role": "processing", "site_id": "BB-DAM-01"}]})

    name: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")
    role: Role
    site_id: str | None = Field(default=None, pattern=IDENT)


class UserIn(BaseModel):
    """A new account; the password is generated and shown once."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"user_id": "rana.haddad", "name": "Rana Haddad", "role": "processing",
         "site_id": "BB-DAM-01"}]})

    user_id: str = Field(pattern=IDENT)
    name: str | None = Field(default=None, min_length=1, max_length=200,
                             pattern=r"^[^\x00-\x1f]+$")
    role: Role
    site_id: str | None = Field(default=None, pattern=IDENT)


class DisableIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


class UserCreated(BaseModel):
    """``password`` is shown here once and never again."""

    user_id: str
    name: str
    role: str
    site_id: str | None
    password: str


class PasswordOut(BaseModel):
    user_id: str
    password: str


class TotpOut(BaseModel):
    user_id: str
    otpauth_uri: str


class UserList(BaseModel):
    users: list[Row]


async def _body(request: Request, settings: SettingsDep, model: type[Any]) -> Any:
    return parse_model(model, await read_json(request, settings))


@router.post("/v1/users", status_code=201, response_model=UserCreated, responses=WRITE,
             openapi_extra=json_body(UserIn))
async def create_user(request: Request, actor: ActorDep, services: ServicesDep,
                      settings: SettingsDep) -> Response:
    """Create a person's account (``AccountCreated``); save ``password`` now."""
    access.require_admin(actor)
    body: UserIn = await _body(request, settings, UserIn)
    password = await people_of(services).create(actor, body.user_id, body.role, body.site_id,
                                                body.name)
    return FastJSON({"user_id": body.user_id, "name": body.name or body.user_id,
                     "role": body.role, "site_id": body.site_id, "password": password},
                    status_code=201)


@router.get("/v1/users", response_model=UserList,
            responses=problems(401, 403, 422, 429, 503))
async def list_users(actor: ActorDep, services: ServicesDep) -> Response:
    """Every account: name, role, site, disabled, locked until, TOTP (no credentials)."""
    access.require_admin(actor)
    return FastJSON({"users": await people_of(services).list()})


@router.put("/v1/users/{user_id}", status_code=204, responses=WRITE,
            openapi_extra=json_body(ProfileIn))
async def change_user(user_id: IdentPath, request: Request, actor: ActorDep,
                      services: ServicesDep, settings: SettingsDep) -> Response:
    """Change the account's name, role or site (``AccountChanged``)."""
    access.require_admin(actor)
    body: ProfileIn = await _body(request, settings, ProfileIn)
    await people_of(services).change(actor, user_id, body.name, body.role, body.site_id)
    return Response(status_code=204)


@router.post("/v1/users/{user_id}/disable", status_code=204, responses=WRITE,
             openapi_extra=json_body(DisableIn))
async def disable_user(user_id: IdentPath, request: Request, actor: ActorDep,
                       services: ServicesDep, settings: SettingsDep) -> Response:
    """Disable the account (``AccountDisabled``): no more sign-ins, sessions end."""
    access.require_admin(actor)
    body: DisableIn = await _body(request, settings, DisableIn)
    await people_of(services).disable(actor, user_id, body.reason)
    return Response(status_code=204)


@router.post("/v1/users/{user_id}/password-reset", response_model=PasswordOut,
             responses=problems(401, 403, 404, 422, 429, 503))
async def reset_password(user_id: IdentPath, actor: ActorDep,
                         services: ServicesDep) -> Response:
    """A new generated password (``AccountPasswordReset``), shown once; a lock ends."""
    access.require_admin(actor)
    password = await people_of(services).reset(actor, user_id)
    return FastJSON({"user_id": user_id, "password": password})


@router.post("/v1/users/{user_id}/totp", response_model=TotpOut,
             responses=problems(401, 403, 404, 422, 429, 503))
async def enrol_totp(user_id: IdentPath, actor: ActorDep, services: ServicesDep) -> Response:
    """Enrol TOTP (``AccountTotpEnrolled``): the ``otpauth://`` URI is shown once."""
    access.require_admin(actor)
    uri = await people_of(services).enrol_totp(actor, user_id)
    return FastJSON({"user_id": user_id, "otpauth_uri": uri})
