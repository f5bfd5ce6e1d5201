"""What the workbench pages share (``/hospital``, ``/bank``, ``/lookbacks``): showing a
form, and recording the step it asks for through ``app.web.record``.

A form posts to ``{page}/{form}`` with the session's CSRF token. A recorded step is
answered with a redirect (POST-redirect-GET) to the page with ``recorded=<position>``,
which shows the event as the log holds it, with a link to its unit; a refused step is the
form again, with what was typed (never the password), the refusal in the person's language
and its rule, and the input at fault marked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import uuid4

from fastapi import Path, Query, Request
from starlette.responses import RedirectResponse, Response

from app.api.deps import connection
from app.api.problems import http_status
from app.errors import DomainError, InvalidUnitId
from app.events.signatures import meaning_of
from app.store import read_queries
from app.store.log_reader import feed
from app.web.labels import term
from app.web.problems import Refusal, refusal
from app.web.record import Credentials, record_step, unit_of
from app.web.scan import read_scan
from app.web.shell import Person, check_csrf, languages, read_form, render
from app.web.steps import Form, step_of
from app.web.workbench_forms import form_named, offered

SIGNATURE_INPUTS = ("signature.password", "signature.totp")
FormQuery = Annotated[str | None, Query(alias="form", max_length=32, pattern=r"^[a-z]+$",
                                        description="the form to open")]
RecordedQuery = Annotated[int | None, Query(ge=1, le=2**62,
                                            description="the position just recorded")]
FormPath = Annotated[str, Path(max_length=32, pattern=r"^[a-z]+$")]


async def unit_of_scan(request: Request, person: Person, text: str, name: str) -> str:
    """The unit a scan names (``app.web.scan``): a unit id as given, or for a DIN alone the
    one live unit of that donation this person's site holds; else a refusal naming the
    input."""
    field = f"data.{name}"
    scanned = read_scan(text, field)
    if scanned.unit_id is not None:
        return scanned.unit_id
    async with connection(request.app.state.services.pool) as con:
        found = await read_queries.donation(con, scanned.din)
    held = [str(c["unit_id"]) for c in (found or {}).get("components", ())
            if not c.get("consumed") and c.get("fate") is None
            and (person.site_id is None or person.site_id in (
                c.get("custodian_site_id"), c.get("in_transit_to")))]
    if len(held) != 1:
        raise InvalidUnitId(f"{scanned.din} names {len(held)} units held here: scan the "
                            "unit's product code too (DIN-product code)", field=field)
    return held[0]


async def recorded_event(request: Request, person: Person,
                         position: int | None) -> dict[str, Any] | None:
    """The event at ``position`` when this person recorded it (the redirect after a step
    names it); else None."""
    if position is None or position < 1:
        return None
    async with connection(request.app.state.services.pool) as con:
        found = await feed(con, position - 1, 1)
    if not found or found[0]["position"] != position:
        return None
    event = found[0]
    if (event.get("actor") or {}).get("user_id") != person.user_id:
        return None
    return event


async def page(request: Request, person: Person, template: str, path: str,
               forms: tuple[Form, ...], chosen: str | None, recorded: int | None,
               prefill: Mapping[str, str | None] | None = None, **context: Any) -> Response:
    """A workbench page with the form ``chosen`` open (the first offered by default), its
    inputs starting from ``prefill`` (a worklist's link, the shipment being scanned in)."""
    mine = offered(forms, person.role)
    form = form_named(mine, chosen or "") or (mine[0] if mine else None)
    names = {f.name for f in form.inputs(person.site_id)} if form is not None else set()
    values = {k: v for k, v in (prefill or {}).items() if v and k in names}
    event = await recorded_event(request, person, recorded)
    return await _show(request, template, person, path, forms, form, values,
                       recorded=event, **context)


async def _show(request: Request, template: str, person: Person, path: str,
                forms: tuple[Form, ...], form: Form | None, values: Mapping[str, str], *,
                refusal: Refusal | None = None, event_id: str | None = None,
                recorded: dict[str, Any] | None = None, status: int = 200,
                **context: Any) -> Response:
    return await render(
        request, template, status=status, path=path, forms=offered(forms, person.role),
        form=form, term=term, values=values, refusal=refusal,
        event_id=event_id or str(uuid4()), recorded=recorded,
        recorded_unit=unit_of(recorded.get("data") or {}) if recorded else None,
        meaning=meaning_of(form.event_type, {}) if form else None, **context)


async def submit(request: Request, person: Person, template: str, path: str,
                 forms: tuple[Form, ...], name: str, **context: Any) -> Response:
    """Record the step of form ``name``: a redirect to the page showing it, or the form
    again with the refusal."""
    values = await read_form(request)
    # A form this role is not offered still goes to the domain, which refuses it (and
    # says why): the page never decides who may record what.
    form = form_named(forms, name)
    if form is None:
        return RedirectResponse(path, status_code=303)
    credentials = Credentials(values.get("signature.password", ""),
                              values.get("signature.totp", "").strip() or None)
    try:
        check_csrf(person, values)  # refused in the form, like any step

        async def scan(text: str, name: str) -> str:
            return await unit_of_scan(request, person, text, name)

        step = await step_of(form, values, person.site_id, scan,
                             languages(request).time_zone)
        done = await record_step(request.app.state.services, person.actor, step,
                                 credentials if form.signed else None,
                                 getattr(request.app.state, "metrics", None))
    except DomainError as err:
        shown: Refusal = refusal(err, languages(request).translations[person.lang])
        kept = {k: v for k, v in values.items()
                if k not in SIGNATURE_INPUTS and k != "csrf_token"}
        return await _show(request, template, person, path, forms, form, kept,
                           refusal=shown, event_id=values.get("event_id"),
                           status=http_status(err), **context)
    query = {"form": form.name, "recorded": str(done.position)} | {
        k: values[k] for k in form.keep if values.get(k)}
    return RedirectResponse(f"{path}?{urlencode(query)}", status_code=303)
