"""ASGI entry for process managers and multi-worker uvicorn: settings from the environment."""

from __future__ import annotations

import gc

from fastapi import FastAPI

from app.api.app import create_app
from app.collector import GC_THRESHOLDS
from app.config import Settings


def app_from_env() -> FastAPI:
    """A fresh app per worker process, configured from the environment."""
    app = create_app(Settings())
    # What exists now (modules, the app, its schemas) lives as long as the process: kept out
    # of every collection, it is never walked again.
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return app
