"""ASGI entry for process managers and multi-worker uvicorn: settings from the environment."""

from __future__ import annotations

from fastapi import FastAPI

from app.api.app import create_app
from app.config import Settings


def app_from_env() -> FastAPI:
    """A fresh app per worker process, configured from the environment."""
    return create_app(Settings())
