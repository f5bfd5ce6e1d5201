"""``/signin`` and ``/signout``: the same people service and sessions as ``/v1/session``,
with the same slowing of a client that fails too often. The sign-in form carries a token
that must match a cookie it set (a site cannot sign a browser in as someone else)."""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from app.api.deps import SESSION_COOKIE, ServicesDep, auth_guard
from app.api.params import IDENT
from app.api.routes_session import set_session_cookie
from app.errors import AccountDisabled, AccountLocked, SignInFailed, Unauthenticated
from app.people.service import people_of
from app.web.i18n import N_
from app.web.shell import LangDep, PersonDep, checked_form, read_form, render, safe_next

router = APIRouter(include_in_schema=False)
FORM_COOKIE = "bt_signin"
_IDENT = re.compile(IDENT)
_TOTP = re.compile(r"^[0-9]{6}$")
NextQuery = Annotated[str | None, Query(alias="next", max_length=2000)]

FAILED = N_("Unknown user, wrong password or wrong TOTP code.")
MESSAGES = {
    SignInFailed.rule: FAILED,
    AccountLocked.rule: N_("The account is locked after repeated failed sign-ins. "
                           "Try again later or ask an administrator."),
    AccountDisabled.rule: N_("The account is disabled."),
}
"""Refusals of a sign-in, by rule (msgids of ``web.po``)."""


async def _form(request: Request, next_url: str, *, error: str | None = None,
                rule: str | None = None, user: str = "", status: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    response = await render(request, "signin.html", status=status, form_token=token,
                            next_url=safe_next(next_url), error=error, rule=rule, user=user)
    response.set_cookie(FORM_COOKIE, token, httponly=True, samesite="strict", path="/signin",
                        secure=request.url.scheme == "https")
    return response


@router.get("/signin")
async def signin_page(request: Request, lang: LangDep, next_: NextQuery = None) -> Response:
    return await _form(request, next_ or "/")


@router.post("/signin")
async def sign_in(request: Request, services: ServicesDep, lang: LangDep) -> Response:
    form = await read_form(request)
    next_url = safe_next(form.get("next"))
    user, password, code = form.get("user", "").strip(), form.get("password", ""), \
        form.get("totp", "").strip() or None
    expected = request.cookies.get(FORM_COOKIE, "")
    if not expected or not hmac.compare_digest(form.get("form_token", "").encode(),
                                               expected.encode()):
        return await _form(request, next_url, status=400, user=user,
                           error=N_("The sign-in form expired: please try again."))
    guard, client = auth_guard(services), request.client.host if request.client else "unknown"
    if guard.wait_seconds(client):
        return await _form(request, next_url, status=429, user=user,
                           error=N_("Too many failed sign-ins from this computer: wait a "
                                    "minute and try again."))
    if not _IDENT.fullmatch(user) or not password or (code is not None
                                                      and not _TOTP.fullmatch(code)):
        return await _form(request, next_url, status=401, user=user, error=FAILED,
                           rule=SignInFailed.rule)
    try:
        signed_in = await people_of(services).sign_in(user, password, code)
    except Unauthenticated as refused:
        if isinstance(refused, SignInFailed):
            guard.failed(client, f"sign-in:{user}")
        return await _form(request, next_url, status=401, user=user,
                           error=MESSAGES.get(refused.rule, FAILED), rule=refused.rule)
    response = RedirectResponse(next_url, status_code=303)
    set_session_cookie(response, request, signed_in.token)
    response.delete_cookie(FORM_COOKIE, path="/signin")
    return response


@router.post("/signout")
async def sign_out(request: Request, services: ServicesDep, person: PersonDep) -> Response:
    await checked_form(request, person)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await people_of(services).sign_out(token)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
