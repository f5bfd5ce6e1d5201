"""Sessions of the web (WEB.md §1): sign in as a person, sign out.

The cookie is ``HttpOnly`` and ``SameSite=Strict``, and ``Secure`` when the request came over
TLS (``X-Forwarded-Proto`` counts only from the proxies in ``forwarded_allow_ips``). The
session ends after ``session_idle_minutes`` without a request. API keys are unchanged.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.responses import Response

from app.api.body import parse_model, read_json
from app.api.deps import SESSION_COOKIE, ActorDep, ServicesDep, SettingsDep, auth_guard
from app.api.openapi import json_body
from app.api.params import IDENT
from app.api.responses import FastJSON, problems
from app.errors import SignInFailed, Unauthenticated
from app.people.service import people_of

router = APIRouter(tags=["session"])


class SessionIn(BaseModel):
    """A person signs in: user id, password, and the TOTP code where the account has one."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, json_schema_extra={
        "examples": [{"user": "rana.haddad", "password": "correct horse battery staple"}]})

    user: str = Field(pattern=IDENT)
    password: str = Field(min_length=1, max_length=1024)
    totp: str | None = Field(default=None, pattern=r"^[0-9]{6}$")


class SessionOut(BaseModel):
    """The person signed in; send ``csrf_token`` as ``X-CSRF-Token`` on every write."""

    user_id: str
    role: str
    site_id: str | None
    csrf_token: str


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    """The session cookie (also set by the web app's sign-in page)."""
    # No Max-Age: a browser-session cookie; the server ends the session when it idles.
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")


@router.post("/v1/session", response_model=SessionOut,
             responses=problems(400, 401, 408, 413, 415, 422, 429, 503),
             openapi_extra=json_body(SessionIn))
async def sign_in(request: Request, services: ServicesDep, settings: SettingsDep) -> Response:
    """Sign in. 200 sets the session cookie; a wrong user, password or TOTP code is a 401
    (``sign-in-failed``), as is a locked (``account-locked``) or disabled account. Five
    failures in 15 minutes lock the account for 15 minutes, and the lock is recorded; a
    client that fails too often is told to wait (429)."""
    body = parse_model(SessionIn, await read_json(request, settings))
    # Guessing across many user ids locks none of them: the client is slowed instead, as
    # for unknown API keys.
    guard, client = auth_guard(services), request.client.host if request.client else "unknown"
    wait = guard.wait_seconds(client)
    if wait:
        raise HTTPException(429, "too many failed sign-ins from this client",
                            headers={"Retry-After": str(wait)})
    try:
        signed_in = await people_of(services).sign_in(body.user, body.password, body.totp)
    except SignInFailed:
        guard.failed(client, f"sign-in:{body.user}")
        raise
    actor = signed_in.actor
    response = FastJSON({"user_id": actor.user_id, "role": actor.role,
                         "site_id": actor.site_id, "csrf_token": signed_in.csrf_token})
    set_session_cookie(response, request, signed_in.token)
    return response


@router.get("/v1/session", response_model=SessionOut,
            responses=problems(401, 422, 429, 503))
async def current_session(request: Request, services: ServicesDep) -> Response:
    """The person of the session cookie, and its CSRF token (a page reloaded needs it)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthenticated("not signed in")
    actor, csrf = await people_of(services).session(token)
    return FastJSON({"user_id": actor.user_id, "role": actor.role, "site_id": actor.site_id,
                     "csrf_token": csrf})


@router.delete("/v1/session", status_code=204,
               responses=problems(401, 403, 422, 429, 503))
async def sign_out(request: Request, actor: ActorDep, services: ServicesDep) -> Response:
    """Sign out: the session ends at once (a writing request: ``X-CSRF-Token`` needed)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or actor.user_id is None:
        raise Unauthenticated("not signed in with a session cookie")
    await people_of(services).sign_out(token)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
