"""The witness's HTTP service (tlog-witness v1.0.0): ``POST /add-checkpoint`` and the
monitoring ``GET /<sha256(origin) hex>/checkpoint``.

These endpoints speak the spec's status codes and bodies (text, ``text/x.tlog.size`` for a
409), not the service's problem+json: their clients are logs and monitors of the C2SP
ecosystem. What to answer is ``app.log.tlog_witness.add_checkpoint`` (pure); the state is
``app.witness.state_db``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping, Sequence

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from app.log.notes import NoteSigner, VerifierKey
from app.log.tlog_witness import add_checkpoint, origin_of
from app.witness.state_db import WitnessStore

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024


def witness_app(store: WitnessStore, logs: Mapping[str, Sequence[VerifierKey]],
                signer: NoteSigner) -> Starlette:
    """The witness's ASGI app over its store, the logs it follows and its cosigning key."""
    by_hash = {hashlib.sha256(o.encode()).hexdigest(): o for o in logs}

    async def add(request: Request) -> Response:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return PlainTextResponse("request body too large\n", status_code=413)

        def decide() -> Response:
            answer = store.add(origin_of(raw), lambda held: add_checkpoint(
                raw, logs, held, signer, int(time.time())))
            if answer.status == 200:
                log.info("cosigned %s at %s", answer.origin, answer.state and answer.state.size)
            elif answer.status != 409:
                log.warning("add-checkpoint refused (%d): %s", answer.status,
                            answer.body.strip())
            # The type exactly as the spec names it: Starlette would add a charset.
            return Response(answer.body, status_code=answer.status,
                            headers={"Content-Type": answer.media_type})

        return await run_in_threadpool(decide)

    async def monitored(request: Request) -> Response:
        origin = by_hash.get(request.path_params["origin_hash"])
        note = None if origin is None else await run_in_threadpool(store.latest_note, origin)
        if note is None:
            return PlainTextResponse("no checkpoint cosigned for this log\n", status_code=404)
        return PlainTextResponse(note, headers={"Cache-Control": "no-cache"})

    return Starlette(routes=[
        Route("/add-checkpoint", add, methods=["POST"]),
        Route("/{origin_hash:str}/checkpoint", monitored, methods=["GET"]),
    ])
