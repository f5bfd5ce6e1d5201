"""The one place errors become RFC 9457 ``application/problem+json`` responses.

- ``DomainError`` → its own status, ``type`` URI (one per rule), ``detail`` and ``field``;
- request validation → 422 ``invalid-input`` naming the first offending field;
- Starlette HTTP errors (unknown path, wrong method) → their status;
- anything else: a 503 when it means the database cannot be reached, else a logged 500.
  These are rendered by ``unexpected`` which the request middleware calls, so the client
  always gets a problem and the server never re-raises into the ASGI server.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.errors import PROBLEM_BASE, DomainError, Unavailable
from app.store.errors import is_unavailable

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


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
    body = exc.to_problem()
    body["instance"] = instance
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if exc.status == 503:
        headers = {"Retry-After": "2"}
    return problem_response(body, headers)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    _count(request, {"rule": exc.rule, "status": exc.status})
    return render_domain_error(exc, request.url.path)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {}
    field = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
    body = {
        "type": PROBLEM_BASE + "invalid-input",
        "title": "Invalid input",
        "status": 422,
        "detail": f"{field}: {first.get('msg', 'invalid input')}" if field
        else str(first.get("msg", "invalid input")),
        "rule": "invalid-input",
        "field": field or None,
        "instance": request.url.path,
        "errors": [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg"))} for e in errors
        ],
    }
    _count(request, body)
    return problem_response(body)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    slug = {400: "malformed-request", 404: "not-found", 405: "method-not-allowed",
            413: "payload-too-large"}.get(exc.status_code, "http-error")
    body = {
        "type": PROBLEM_BASE + slug,
        "title": str(exc.detail),
        "status": exc.status_code,
        "detail": str(exc.detail),
        "rule": slug,
        "instance": request.url.path,
    }
    _count(request, body)
    return problem_response(body, dict(exc.headers) if exc.headers else None)


def unexpected(exc: Exception, method: str, path: str) -> Response:
    """The answer to an exception nothing else handled: 503 when the database is
    unreachable, else 500 (logged with its traceback; the client learns nothing internal)."""
    if is_unavailable(exc):
        log.warning("database unreachable on %s %s: %s", method, path, type(exc).__name__)
        return render_domain_error(Unavailable("the database is unreachable; retry shortly"),
                                   path)
    log.error("unhandled error on %s %s", method, path, exc_info=exc)
    return problem_response({
        "type": PROBLEM_BASE + "internal-error",
        "title": "Internal error",
        "status": 500,
        "detail": "an unexpected error occurred; it has been logged",
        "rule": "internal-error",
        "instance": path,
    })


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
