"""The one place errors become RFC 9457 ``application/problem+json`` responses.

- ``DomainError`` → the status of its category (``STATUS``), a ``type`` URI per rule,
  ``detail`` and ``field``; a ``StoreUnavailable`` is a 503 with ``Retry-After``;
- request validation → 422 ``invalid-input`` naming the first offending field;
- Starlette HTTP errors (unknown path, wrong method) → their status;
- anything else: a logged 500. ``unexpected`` renders it for the request middleware, so the
  client always gets a problem and the server never re-raises into the ASGI server.

Single appends, batch items and these handlers all build their bodies with ``problem_body``.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.errors import Category, DomainError, InvalidInput

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://bloodtrace.dev/problems/"

STATUS: dict[Category, int] = {
    Category.INVALID_INPUT: 422,
    Category.MALFORMED: 400,
    Category.TOO_LARGE: 413,
    Category.NOT_FOUND: 404,
    Category.UNAUTHENTICATED: 401,
    Category.FORBIDDEN: 403,
    Category.CONFLICT: 409,
    Category.RULE_VIOLATION: 409,
    Category.UNAVAILABLE: 503,
    Category.GONE: 410,
}
"""The HTTP status of each category of DomainError: the only such map."""

_HTTP_RULES = {400: "malformed-request", 404: "not-found", 405: "method-not-allowed",
               408: "request-timeout", 413: "payload-too-large", 415: "unsupported-media-type",
               429: "too-many-requests", 503: "unavailable"}
"""Rules of the refusals the HTTP edge makes itself (protocol, not domain, refusals)."""
_LOCATIONS = ("body", "query", "path")
"""FastAPI's first element of a validation error's location: where, not which field."""


def edge_rules() -> frozenset[str]:
    """The rules of the refusals made here rather than by a ``DomainError`` class: the
    protocol's own, ``http-error`` for any other status, and ``internal-error``."""
    return frozenset(_HTTP_RULES.values()) | {"http-error", "internal-error"}


def http_status(exc: DomainError) -> int:
    """The HTTP status that answers ``exc``."""
    return STATUS[exc.category]


def problem_body(
    *, rule: str, title: str, status: int, detail: str, field: str | None = None,
    extra: dict[str, Any] | None = None, instance: str | None = None,
) -> dict[str, Any]:
    """An RFC 9457 problem: ``type`` is the rule's URI; ``field`` and ``instance`` appear
    when known; ``extra`` members follow."""
    body: dict[str, Any] = {"type": PROBLEM_BASE + rule, "title": title, "status": status,
                            "detail": detail, "rule": rule}
    if field is not None:
        body["field"] = field
    if extra:
        body.update(extra)
    if instance is not None:
        body["instance"] = instance
    return body


def problem(exc: DomainError, instance: str | None = None) -> dict[str, Any]:
    """The problem body of a refusal (a batch item carries it without ``instance``)."""
    return problem_body(rule=exc.rule, title=exc.title, status=http_status(exc),
                        detail=exc.detail, field=exc.field, extra=exc.extra, instance=instance)


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=int(body["status"]), media_type=PROBLEM_JSON,
        headers=headers,
    )


def _count(request: Request, body: dict[str, Any]) -> None:
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.refused(str(body.get("rule")), int(body["status"]))


def render_domain_error(exc: DomainError, instance: str) -> Response:
    headers = None
    if exc.category is Category.UNAUTHENTICATED:
        headers = {"WWW-Authenticate": "Bearer"}
    elif exc.category is Category.UNAVAILABLE:
        headers = {"Retry-After": "2"}
    return problem_response(problem(exc, instance), headers)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    if exc.category is Category.UNAVAILABLE:
        # The client learns only "retry"; the operator learns which failure it was.
        cause = exc.__cause__
        log.warning("database unreachable on %s %s: %s", request.method, request.url.path,
                    type(cause).__name__ if cause is not None else exc.detail)
    response = render_domain_error(exc, request.url.path)
    _count(request, {"rule": exc.rule, "status": response.status_code})
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    listed = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg"))}
              for e in errors]
    refusal = InvalidInput.from_validation(errors, hide=_LOCATIONS, errors=listed)
    _count(request, {"rule": refusal.rule, "status": http_status(refusal)})
    return render_domain_error(refusal, request.url.path)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    rule = _HTTP_RULES.get(exc.status_code, "http-error")
    body = problem_body(rule=rule, title=str(exc.detail), status=exc.status_code,
                        detail=str(exc.detail), instance=request.url.path)
    _count(request, body)
    return problem_response(body, dict(exc.headers) if exc.headers else None)


def unexpected(exc: Exception, method: str, path: str) -> Response:
    """The answer to an exception nothing else handled: a 500, logged with its traceback
    (the client learns nothing internal)."""
    log.error("unhandled error on %s %s", method, path, exc_info=exc)
    return problem_response(problem_body(
        rule="internal-error", title="Internal error", status=500,
        detail="an unexpected error occurred; it has been logged", instance=path,
    ))


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
