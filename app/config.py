"""One typed Settings object, read from the environment (prefix ``BLOODTRACE_``, plus the
conventional ``DATABASE_URL``, ``HOST`` and ``PORT``). Built only in the composition root."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service configuration. Every field can be set as ``BLOODTRACE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="BLOODTRACE_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "BLOODTRACE_DATABASE_URL"),
        description="Owner/superuser URL used to migrate. None: start the embedded PostgreSQL.",
    )
    app_database_url: str | None = Field(
        default=None,
        description="URL the service uses at run time (INSERT/SELECT role). Default: the "
        "database_url with the user replaced by `app_role`.",
    )
    app_role: str = "bloodtrace_app"
    read_database_url: str | None = Field(
        default=None,
        description="A replica (or a multi-host DSN with target_session_attrs=prefer-standby) "
        "that serves the feed, the SSE stream, the read models, the proofs and the export, "
        "connected as `app_role`. None: everything reads the primary.")
    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("HOST", "BLOODTRACE_HOST"))
    port: int = Field(default=8000, validation_alias=AliasChoices("PORT", "BLOODTRACE_PORT"))
    data_dir: Path = Path(".data")

    pool_min_size: int = 2
    pool_max_size: int = 10
    batch_max: int = 500
    """Most commands one writer transaction takes (group commit)."""
    command_timeout_s: float = 10.0
    connect_timeout_s: float = 5.0
    """An unreachable host fails a request within this, instead of hanging it."""
    max_body_bytes: int = 4 * 1024 * 1024
    max_batch_events: int = 1000
    max_json_elements: int = 10_000
    """Most JSON values (objects, arrays, scalars) one event or other body may hold."""
    max_batch_json_elements: int = 200_000
    """The same for a whole batch: refused before parsing, so a flood costs milliseconds."""
    auth_failures_burst: int = 20
    """Failed key look-ups a client may make at once (then ``auth_failures_per_second``)."""
    auth_failures_per_second: float = 0.5
    stream_max_per_key: int = 4
    """Change-feed streams (SSE) one key may hold open; past it a 429."""
    stream_max_total: int = 200
    """Streams this process carries in all; past it a 503."""
    stream_replay_events_per_second: float = 5000.0
    """Fastest a stream replays history, so catching-up readers leave the writer room."""
    header_read_timeout_s: float = 10.0
    """Longest a client may take to send a request's line and headers."""
    forwarded_allow_ips: str = "127.0.0.1"
    """Proxies whose X-Forwarded-For/-Proto are believed (client address, HTTPS for HSTS)."""
    body_read_timeout_s: float = 10.0
    """Longest a client may take to send a body (after its headers): slow senders do not
    hold a request open."""

    public_url: str | None = Field(
        default=None, pattern=r"^https?://[A-Za-z0-9.:\[\]-]+(/[A-Za-z0-9._~/-]*)?$",
        description="The service's address as clients reach it (for FHIR fullUrl and links); "
        "never taken from a request's Host header. Default: http://HOST:PORT.")

    log_origin: str = "bloodtrace.dev/log"
    checkpoint_every_events: int = 1000
    checkpoint_every_seconds: float = 10.0
    signing_key_file: Path | None = None
    signing_key: str | None = None
    """A PEM Ed25519 private key given inline (for containers); wins over the file."""

    demo_on_empty: bool = False
    log_json: bool = True

    def public_base_url(self) -> str:
        """``public_url``, or the address the service listens on."""
        return self.public_url or f"http://{self.host}:{self.port}"
