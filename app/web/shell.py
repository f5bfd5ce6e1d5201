"""What every page shares: the signed-in person, the language, rendering, forms and CSRF.

- ``PersonDep`` (``page_session``): the person of the session cookie (the same sessions as
  ``POST /v1/session``); without a live session, a redirect to ``/signin?next=``.
- ``LangDep`` (``page_lang``): the language of a page anyone may open (``?lang=``, then
  the ``lang`` cookie, then ``Accept-Language``).
- ``render``: a template in the request's language, with the strict CSP, ``no-store``, and
  the ``lang`` cookie kept when ``?lang=`` chose it.
- ``read_form`` and ``checked_form``: a urlencoded form, and one whose ``csrf_token`` must
  be the session's (every form that writes carries it).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Any, Final
from urllib.parse import parse_qsl, quote

from fastapi import Depends, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from app.api.deps import SESSION_COOKIE, ServicesDep
from app.api.routes_docs import content_security_policy
from app.errors import CsrfTokenRequired, InvalidInput, Unauthenticated
from app.events.messages import Actor
from app.people.service import people_of
from app.web.i18n import LANG_COOKIE, N_, Languages, choose_language
from app.web.sites import SiteNames, site_names

PAGE_CSP: Final = content_security_policy("'self'")
FORM_MAX_BYTES: Final = 64 * 1024

NATIONAL: Final = frozenset({"auditor", "admin"})
BANK_ROLES: Final = frozenset({"collector", "lab", "processing", "inventory"})
NAV: Final = (
    ("/units", N_("Units"), frozenset({"hospital", "admin", "auditor"} | BANK_ROLES)),
    ("/stock", N_("Stock"), frozenset({"hospital", "inventory", "processing", "admin",
                                       "auditor"})),
    ("/hospital", N_("Hospital"), frozenset({"hospital", "admin"})),
    ("/bank", N_("Blood bank"), BANK_ROLES | {"admin"}),
    ("/lookbacks", N_("Lookbacks"), frozenset({"hospital", "lab", "processing", "inventory",
                                           "admin", "auditor"})),
    ("/audit", N_("Audit"), NATIONAL),
)
"""(path, English label — a msgid of ``web.po``, roles that see the link)."""
ROLE_NAMES: Final = (N_("collector"), N_("lab"), N_("processing"), N_("inventory"),
                     N_("hospital"), N_("auditor"), N_("admin"))
"""The roles as shown (``_(person.role)``)."""

LangQuery = Annotated[str | None, Query(max_length=8, pattern=r"^[a-z]{2,3}$",
                                        description="ar or en; kept in the lang cookie")]


class SignInRequired(Exception):
    """No live session: the page answers with a redirect to ``/signin?next=``."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


@dataclass(frozen=True, slots=True)
class Person:
    """The person signed in, as every page sees them."""

    user_id: str
    name: str
    role: str
    site_id: str | None
    csrf_token: str
    lang: str
    actor: Actor

    @property
    def national(self) -> bool:
        return self.role in NATIONAL


def nav_for(role: str | None) -> list[tuple[str, str]]:
    """The (path, label msgid) links a role sees."""
    return [(path, label) for path, label, roles in NAV if role in roles]


def languages(request: Request) -> Languages:
    found: Languages = request.app.state.web_languages
    return found


async def page_lang(request: Request, lang: LangQuery = None) -> str:
    """The page's language (and ``request.state.lang``)."""
    chosen = choose_language(lang, request.cookies.get(LANG_COOKIE),
                             request.headers.get("accept-language"))
    request.state.lang = chosen
    return chosen


LangDep = Annotated[str, Depends(page_lang)]


def next_of(request: Request) -> str:
    """This page's path and query, to come back to after signing in."""
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


async def page_session(request: Request, services: ServicesDep, lang: LangDep) -> Person:
    """The person of the session cookie, or ``SignInRequired`` (a redirect)."""
    return await _session_person(request, services, lang, keep_alive=True)


async def background_session(request: Request, services: ServicesDep, lang: LangDep
                             ) -> Person:
    """``page_session`` for a page's own refresh (live fragments): it does not count as use,
    so an unattended screen's session still ends after the idle time."""
    return await _session_person(request, services, lang, keep_alive=False)


async def _session_person(request: Request, services: ServicesDep, lang: str, *,
                          keep_alive: bool) -> Person:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequired(next_of(request))
    accounts = people_of(services)
    try:
        actor, csrf, name = await accounts.person(token, keep_alive=keep_alive)
    except Unauthenticated:  # expired, signed out, or the account disabled
        raise SignInRequired(next_of(request)) from None
    assert actor.user_id is not None
    person = Person(actor.user_id, name, actor.role, actor.site_id, csrf, lang, actor)
    request.state.person = person
    return person


PersonDep = Annotated[Person, Depends(page_session)]
BackgroundPersonDep = Annotated[Person, Depends(background_session)]


def safe_next(value: str | None) -> str:
    """Only a path of this service (``/...``, not ``//host``) is followed after sign-in."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def signin_redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(f"/signin?next={quote(exc.next_url, safe='')}", status_code=303)


async def read_form(request: Request) -> dict[str, str]:
    """A ``application/x-www-form-urlencoded`` body (the pages post nothing else); a
    repeated field keeps its last value."""
    body = await request.body()
    if len(body) > FORM_MAX_BYTES:
        raise InvalidInput(f"a form is at most {FORM_MAX_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("a form is UTF-8") from None
    return dict(parse_qsl(text, keep_blank_values=True, max_num_fields=200))


def check_csrf(person: Person, form: dict[str, str]) -> None:
    """Refuse a form whose ``csrf_token`` is not the session's."""
    if not hmac.compare_digest(form.get("csrf_token", "").encode(),
                               person.csrf_token.encode()):
        raise CsrfTokenRequired("a form that writes carries the session's csrf_token",
                                field="csrf_token")


async def checked_form(request: Request, person: Person) -> dict[str, str]:
    """``read_form``, then ``check_csrf``."""
    form = await read_form(request)
    check_csrf(person, form)
    return form


async def render(request: Request, template: str, *, status: int = 200,
                 **context: Any) -> HTMLResponse:
    """``template`` in the request's language. The context always has ``person`` (or None),
    ``nav``, ``site_name(site_id)``, ``csrf_token``, ``page_path``, ``here`` (this page's
    path and query without ``lang``, ending in ``?`` or ``&``: ``{{ here }}lang=ar``), and
    ``_``/``gettext``/``ngettext`` of the language."""
    lang: str = getattr(request.state, "lang", None) or await page_lang(
        request, request.query_params.get("lang"))
    person: Person | None = getattr(request.state, "person", None)
    names: SiteNames = (await site_names(request.app.state.services)
                        if person is not None else SiteNames())
    env = languages(request).env(lang)
    html = env.get_template(template).render(
        person=person, nav=nav_for(person.role if person else None),
        site_name=lambda site_id: names.name(site_id, lang),
        csrf_token=person.csrf_token if person else "",
        here=_without_lang(request), page_path=request.url.path, **context)
    response = HTMLResponse(html, status_code=status, headers={
        "Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store",
        "Referrer-Policy": "same-origin"})
    keep_language(request, response, lang)
    return response


def keep_language(request: Request, response: Response, lang: str) -> None:
    """Keep a ``?lang=`` choice in the ``lang`` cookie (a year)."""
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="strict",
                            path="/", secure=request.url.scheme == "https")


def _without_lang(request: Request) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    tail = "&".join(f"{quote(k)}={quote(v)}" for k, v in query)
    return request.url.path + (f"?{tail}&" if tail else "?")
