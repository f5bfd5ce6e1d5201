"""Routes served without FastAPI's per-request dependency solving, documented as any other.

The two write operations carry the traffic: at thousands of requests a second, resolving the
dependency tree of every request (services, pool, settings, writer, metrics, the key) cost
more than recording the event. A ``LeanRoute`` is still an ``APIRoute``: its OpenAPI
description comes from the endpoint's signature and decorator exactly as before (security
scheme, body, responses). Only the handler differs: it runs the app-wide query check and
authenticates the recording key with the same functions the dependencies call, then calls
``endpoint(request, actor)``. Everything else the endpoint takes from ``request.app.state``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from app.api.deps import recorder_of
from app.api.params import reject_unknown_query
from app.events.messages import Actor

LeanEndpoint = Callable[[Request, Actor], Awaitable[Response]]
_SIGNATURE = ["request", "actor"]


class LeanRoute(APIRoute):
    """An ``APIRoute`` whose endpoint is ``async (request, actor: RecorderDep) -> Response``
    and is called with the recording key, its dependencies never solved per request."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        # Any other parameter would be documented but never given: refuse it here.
        names = list(inspect.signature(endpoint).parameters)
        if names != _SIGNATURE:
            raise TypeError(f"a LeanRoute endpoint takes {_SIGNATURE}, not {names}")
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint: LeanEndpoint = self.endpoint

        async def handler(request: Request) -> Response:
            # In the order FastAPI would: the app's dependency, then the route's.
            await reject_unknown_query(request)
            return await endpoint(request, await recorder_of(request))

        return handler
