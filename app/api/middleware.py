"""Per-request context: a request id (``X-Request-ID``, in every log line), latency metrics,
a structured access-log line, the security headers of every answer, and the last-resort
problem for unhandled exceptions.

The access line is INFO for refusals, errors and slow requests, DEBUG otherwise: at
thousands of requests a second, a line per success costs more than the request's own work.

A plain ASGI middleware (not ``BaseHTTPMiddleware``), so streamed responses (SSE, export)
pass through untouched.
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.metrics import Metrics
from app.api.problems import unexpected
from app.json_logging import request_id

log = logging.getLogger("bloodtrace.access")
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
SLOW_SECONDS = 0.5


class RequestContext:
    """Wraps the app: sets the request id, measures, logs, and answers what nothing handled."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope) or secrets.token_hex(16)
        extra = _security_headers(scope)
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", ())
                           if not (k.lower() == b"cache-control" and _AUTHORIZATION in extra)]
                message["headers"] = [*headers, *extra.values(),
                                      (b"x-request-id", rid.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if response_started:
                log.warning("stream of %s ended by %s", scope["path"], type(exc).__name__,
                            exc_info=exc)
            else:
                response = unexpected(exc, scope["method"], scope["path"])
                await response(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.request_done(scope["method"], route, status, elapsed)
            level = (logging.INFO if status >= 400 or elapsed > SLOW_SECONDS
                     else logging.DEBUG)
            if log.isEnabledFor(level):
                log.log(level, "%s %s %d %.1fms", scope["method"], scope["path"], status,
                        elapsed * 1000)
            request_id.reset(token)


_AUTHORIZATION = "no-store"
HSTS = b"max-age=31536000; includeSubDomains"


def _security_headers(scope: Scope) -> dict[str, tuple[bytes, bytes]]:
    """Headers every answer carries: ``nosniff``; ``no-store`` on any request that sent a
    key (an answer for one key must never be cached for another); HSTS over HTTPS (TLS
    here, or a trusted proxy's ``X-Forwarded-Proto``)."""
    headers = {"nosniff": (b"x-content-type-options", b"nosniff")}
    for name, _ in scope["headers"]:
        if name == b"authorization":
            headers[_AUTHORIZATION] = (b"cache-control", b"no-store")
            break
    if scope.get("scheme") == "https":
        headers["hsts"] = (b"strict-transport-security", HSTS)
    return headers


def _incoming_id(scope: Scope) -> str | None:
    """A client's own ``X-Request-ID`` when it is a short token, so ids can be correlated."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _CLIENT_ID.fullmatch(text) else None
    return None
