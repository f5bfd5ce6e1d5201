"""``bloodtrace witness``: the polling witness (``witness URL`` or ``witness poll URL``) and
the tlog-witness server (``witness serve``). Neither needs the log's database."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from app.cli.verifiable import err, pinned_keys
from app.log.notes import NoteError, VerifierKey


class _PollByDefault(TyperGroup):
    """``bloodtrace witness URL …`` keeps meaning ``bloodtrace witness poll URL …``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer's vendored Context
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["poll", *args]
        return super().parse_args(ctx, args)


witness_app = typer.Typer(cls=_PollByDefault, no_args_is_help=True,
                          help="Witness a log: poll it (URL), or serve tlog-witness (serve).")


@witness_app.command("poll")
def witness_command(
    url: Annotated[str, typer.Argument(help="The log's base URL, e.g. https://log.example")],
    state: Annotated[Path, typer.Option(help="Where the witness keeps what it saw")],
    log_key: Annotated[list[str], typer.Option(help="The log's pinned verifier key(s)")],
    key: Annotated[Path, typer.Option(help="The witness's Ed25519 key (PEM; made if absent)")],
    name: Annotated[str, typer.Option(help="The witness's key name")] = "witness.local",
) -> None:
    """Fetch the latest checkpoint, refuse a log that shrank or forked, cosign, save state.
    Prints the cosigned checkpoint."""
    from app.log.witness import WitnessRefusal
    from app.witness.http_log import HttpLog
    from app.witness.runner import run_witness, witness_signer

    signer, created = witness_signer(key, name)
    if created:
        err.print(f"new witness key; its verifier key: {signer.verifier}")
    try:
        previous, now = run_witness(HttpLog(url), state, pinned_keys(log_key), signer)
    except WitnessRefusal as exc:
        err.print(f"[red]REFUSED[/red]: {exc}")
        raise typer.Exit(1) from None
    seen = "first sight" if previous is None else f"extends {previous.size}"
    err.print(f"cosigned {now.origin} at {now.size} ({seen})")
    print(now.note, end="")


def followed_logs(values: list[str]) -> dict[str, list[VerifierKey]]:
    """``ORIGIN=VKEY`` options: the logs a serving witness follows and their keys."""
    logs: dict[str, list[VerifierKey]] = {}
    for value in values:
        origin, sep, vkey = value.partition("=")
        try:
            if not sep or not origin:
                raise NoteError("expected ORIGIN=VKEY")
            logs.setdefault(origin, []).append(VerifierKey.parse(vkey))
        except NoteError as exc:
            err.print(f"[red]bad --log {value!r}: {exc}[/red]")
            raise typer.Exit(2) from None
    if not logs:
        err.print("[red]follow at least one log with --log ORIGIN=VKEY[/red]")
        raise typer.Exit(2)
    return logs


@witness_app.command("serve")
def witness_serve(
    key: Annotated[Path, typer.Option(help="The witness's Ed25519 key (PEM; made if absent)")],
    log: Annotated[list[str], typer.Option(
        help="A log to witness, as ORIGIN=VKEY (repeat: several logs, or a log's rotated "
             "keys)")],
    state: Annotated[Path, typer.Option(help="The witness's state (SQLite)")]
    = Path("witness.db"),
    listen: Annotated[str, typer.Option(help="HOST:PORT")] = "127.0.0.1:7380",
    name: Annotated[str, typer.Option(help="The witness's key name")] = "witness.local",
) -> None:
    """Serve tlog-witness v1.0.0 add-checkpoint: cosign each checkpoint that extends the last
    one cosigned for its log. Prints ``vkey: <the witness's verifier key>`` on start."""
    import uvicorn

    from app.witness.runner import witness_signer
    from app.witness.server import witness_app as make_app
    from app.witness.state_db import WitnessStore

    logs = followed_logs(log)
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdecimal():
        err.print("[red]--listen is HOST:PORT[/red]")
        raise typer.Exit(2)
    signer, _ = witness_signer(key, name)
    store = WitnessStore(state)
    print(f"vkey: {signer.verifier}", flush=True)
    sys.stdout.flush()
    try:
        uvicorn.run(make_app(store, logs, signer), host=host.strip("[]"), port=int(port),
                    log_level="warning", server_header=False)
    finally:
        store.close()
