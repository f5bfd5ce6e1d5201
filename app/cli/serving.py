"""How the ASGI server runs the app: no ``server`` banner, and a deadline on request headers.

uvicorn closes idle keep-alive connections, but a client that sends a request's headers a
byte at a time holds its connection (and a slot of the listen backlog) for as long as it
likes. ``HeaderDeadline`` closes a connection whose request line and headers have not all
arrived within ``header_read_timeout_s`` of their first byte (or of the connection). The
body has its own deadline, in the app (``app.api.strict_json``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.config import Settings


class HeaderDeadline(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline on each request's headers."""

    header_timeout_s = 10.0
    _deadline: asyncio.TimerHandle | None = None
    _in_headers = True

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._in_headers and self._deadline is None:
            self._arm()
        super().data_received(data)

    def on_message_begin(self) -> None:
        self._in_headers = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._deadline = self.loop.call_later(self.header_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self._in_headers and not self.transport.is_closing():
            self.transport.close()


def server_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run``/``uvicorn.Config`` (besides the app)."""

    class Protocol(HeaderDeadline):
        header_timeout_s = settings.header_read_timeout_s

    return {"host": settings.host, "port": settings.port, "server_header": False,
            "http": Protocol, "timeout_keep_alive": 5, "log_level": "warning",
            "access_log": False, "proxy_headers": True,
            "forwarded_allow_ips": settings.forwarded_allow_ips}


def banner(settings: Settings) -> str:
    """Where the service answers, printed when it starts: the web app and the API."""
    host = settings.host
    shown = f"[{host}]" if ":" in host else ("127.0.0.1" if host in ("0.0.0.0", "") else host)  # noqa: S104
    base = f"http://{shown}:{settings.port}"
    return (f"bloodtrace web app: {base}/  (API: {base}/v1, docs: {base}/docs; "
            "in-browser verification needs HTTPS or localhost)")
