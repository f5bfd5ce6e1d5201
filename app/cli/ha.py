"""``bloodtrace ha``: a local high-availability cluster (etcd, two PostgreSQL nodes under
Patroni, synchronous replication), everything under one directory (``app/ha/cluster.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console

err = Console(stderr=True)
DirOption = Annotated[Path, typer.Option("--dir", help="Where the cluster keeps everything.")]
DEFAULT_DIR = Path(".data/ha")


def register(app: typer.Typer) -> None:
    """Add the ``ha`` sub-command group to the CLI."""
    group = typer.Typer(help="A local high-availability cluster: etcd and PostgreSQL under "
                             "Patroni.", no_args_is_help=True)
    group.command("up")(up_command)
    group.command("status")(status_command)
    group.command("down")(down_command)
    app.add_typer(group, name="ha")


def up_command(
    directory: DirOption = DEFAULT_DIR,
    asynchronous: Annotated[bool, typer.Option(
        "--async", help="Asynchronous replication (for comparison; loses acknowledged "
                        "commits on failover).")] = False,
    strict: Annotated[bool, typer.Option(
        help="With no standby, commits wait (synchronous_mode_strict); --no-strict lets the "
             "primary go on alone.")] = True,
) -> None:
    """Start etcd and two PostgreSQL nodes under Patroni; print the multi-host DSN."""
    from app.ha.cluster import ClusterError, status, up

    try:
        cluster = up(directory, synchronous=not asynchronous, strict=strict)
    except ClusterError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    for node in status(cluster)["nodes"]:
        err.print(f"{node['name']}: {node['role']} on port {node['port']} (pid {node['pid']})")
    err.print("DATABASE_URL for the service (the last line):")
    print(cluster.dsn())


def status_command(
    directory: DirOption = DEFAULT_DIR,
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Each node's role, postmaster pid and port, and the DSN."""
    from app.ha.cluster import Cluster, ClusterError, status

    try:
        report = status(Cluster.load(directory.resolve()))
    except ClusterError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    if json:
        print(orjson.dumps(report).decode())
        return
    print(f"dsn: {report['dsn']}")
    for node in report["nodes"]:
        print(f"{node['name']}: {node['role']} port={node['port']} pid={node['pid']}")


def down_command(
    directory: DirOption = DEFAULT_DIR,
    keep_data: Annotated[bool, typer.Option(
        help="Stop the processes, keep the files (logs, data) for inspection.")]
    = False,
) -> None:
    """Stop Patroni, PostgreSQL and etcd, and remove the cluster's files."""
    from app.ha.cluster import down

    down(directory, remove=not keep_data)
    err.print(f"stopped the cluster under {directory}")
