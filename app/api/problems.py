"""The one place errors become RFC 9457 ``application/problem+json`` responses."""

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


def _instance(request: Request) -> str:
    return request.url.path


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    body = exc.to_problem()
    body["instance"] = _instance(request)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if exc.status == 503:
        headers = {"Retry-After": "2"}
    return problem_response(body, headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {}
    field = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
    return problem_response({
        "type": PROBLEM_BASE + "invalid-input",
        "title": "Invalid input",
        "status": 422,
        "detail": str(first.get("msg", "invalid input")),
        "rule": "invalid-input",
        "field": field or None,
        "instance": _instance(request),
        "errors": [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg")} for e in errors
        ],
    })


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    return problem_response({
        "type": PROBLEM_BASE + slug,
        "title": str(exc.detail),
        "status": exc.status_code,
        "detail": str(exc.detail),
        "rule": slug,
        "instance": _instance(request),
    }, dict(exc.headers) if exc.headers else None)


async def _unexpected(request: Request, exc: Exception) -> Response:
    if is_unavailable(exc):
        return await _domain_error(request, Unavailable("the database is unreachable"))
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response({
        "type": PROBLEM_BASE + "internal-error",
        "title": "Internal error",
        "status": 500,
        "detail": "an unexpected error occurred; it has been logged",
        "rule": "internal-error",
        "instance": _instance(request),
    })


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
