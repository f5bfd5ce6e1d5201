"""ASGI entry for process managers and multi-worker uvicorn: settings from the environment."""

from __future__ import annotations

import gc

from fastapi import FastAPI

from app.api.app import create_app
from app.config import Settings

GC_THRESHOLDS = (50_000, 20, 100)
"""The cyclic collector's thresholds in a server process. The default (700 allocations)
runs a young collection every few events of a batch, each walking every object made since:
measured on ``POST /v1/events/batch``, the server spent about a quarter of its CPU there.
Nearly everything a request makes is freed by reference counting; cycles still go, later."""


def app_from_env() -> FastAPI:
    """A fresh app per worker process, configured from the environment."""
    app = create_app(Settings())
    # What exists now (modules, the app, its schemas) lives as long as the process: kept out
    # of every collection, it is never walked again.
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return app
