"""One typed Settings object, read from the environment (prefix ``BLOODTRACE_``, plus the
conventional ``DATABASE_URL``, ``HOST`` and ``PORT``). Built only in the composition root."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class WitnessEndpoint(BaseModel):
    """A tlog-witness the log pushes its checkpoints to: its submission prefix (``url``; the
    push is ``POST <url>/add-checkpoint``) and its cosignature/v1 verifier key."""

    url: str = Field(pattern=r"^https?://\S+$")
    vkey: str

    @field_validator("vkey")
    @classmethod
    def _cosigner_key(cls, value: str) -> str:
        from app.log.notes import COSIGNATURE_V1, VerifierKey

        if VerifierKey.parse(value).sig_type != COSIGNATURE_V1:
            raise ValueError("a witness key is a cosignature/v1 (type 0x04) verifier key")
        return value


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
    """Connections of the pool requests read with; the writer has one of its own besides."""
    pool_acquire_timeout_s: float = 5.0
    """Longest wait for a free connection before a 503 (``app.store.pool``)."""
    pool_close_grace_s: float = 10.0
    """Longest wait at shutdown for held connections to come back before they are cut."""
    batch_max: int = 500
    """Most commands one writer transaction takes (group commit)."""
    command_timeout_s: float = 10.0
    verify_workers: int = 0
    """Processes ``GET /v1/audit/verify`` checks a long log on (0: every core)."""
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

    display_time_zone: str = "Asia/Damascus"
    """The IANA time zone the web app shows times in (the log keeps UTC)."""
    session_idle_minutes: int = Field(default=15, ge=1, le=24 * 60)
    """A web session ends after this long without a request (WEB.md §1)."""
    password_min_length: int = Field(default=12, ge=8, le=128)
    password_hash_time_cost: int = Field(default=3, ge=1)
    password_hash_memory_kib: int = Field(default=64 * 1024, ge=8 * 1024)
    """The argon2id cost of new password hashes (default: RFC 9106's second profile)."""
    signin_lock_failures: int = Field(default=5, ge=1)
    """Failed sign-ins (or signatures) within ``signin_lock_minutes`` that lock an account."""
    signin_lock_minutes: int = Field(default=15, ge=1)
    """The window the failures are counted in, and how long the lock then lasts."""
    witnesses: list[WitnessEndpoint] = []
    """``BLOODTRACE_WITNESSES``: a JSON list of ``{"url": <submission prefix>, "vkey": <the
    witness's cosignature/v1 vkey>}``; each new checkpoint is pushed to each (tlog-witness)."""
    witness_quorum: int = Field(default=1, ge=1)
    """How many of those witnesses must cosign a checkpoint for it to count as witnessed."""
    witness_timeout_s: float = 10.0
    witness_backoff_max_s: float = 300.0
    """Longest wait between two pushes to a failing witness (the wait doubles from 1 s)."""
    vault_master_key: str | None = None
    """The donor vault's master key, 32 bytes as base64 (for containers); wins over the file."""
    vault_master_key_file: Path | None = None
    """Default: ``data_dir/vault/master.key``, generated at first start (the demo)."""
    vault_pepper: str | None = None
    """The pseudonym pepper, 32 bytes as base64; the same across the whole network."""
    vault_pepper_file: Path | None = None
    """Default: ``data_dir/vault/pepper.key``, generated at first start (the demo)."""
    donor_retention_years: int = Field(default=30, ge=1, le=100)
    """How long after a donor's last donation their identity is kept (the retention report)."""

    demo_on_empty: bool = False
    log_json: bool = True

    def public_base_url(self) -> str:
        """``public_url``, or the address the service listens on."""
        return self.public_url or f"http://{self.host}:{self.port}"
