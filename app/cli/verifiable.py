"""CLI commands of the verifiable log: export, verify-export, verify-unit, log-keys (and
``witness``, from ``app/cli/witness.py``).

``verify-export``, ``verify-unit`` and ``witness`` need no database; they are the auditor's and
the witness's tools. ``app.cli.main()`` calls ``register``.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.log.notes import NoteError, VerifierKey
from app.log.quorum import WitnessPolicy, policy

err = Console(stderr=True)
TAIL_BYTES = 1 << 20
"""How much of an export's end is read to find its closing checkpoint line."""
KeyOption = Annotated[list[str], typer.Option(
    "--key", help="A pinned verifier key (name+keyid+base64), or a file of them, one a line. "
                  "Repeat to pin several (key rotation).")]


WitnessOption = Annotated[list[str] | None, typer.Option(
    "--witness", help="A pinned witness's cosignature verifier key, or a file of them. "
                      "Repeat to pin several.")]
QuorumOption = Annotated[int | None, typer.Option(
    help="How many pinned witnesses must have cosigned (default 1 with --witness)")]


def witness_policy(witness: list[str] | None, quorum: int | None) -> WitnessPolicy | None:
    """The ``--witness``/``--quorum`` policy, or None when neither is given."""
    keys = pinned_keys(witness, "--witness") if witness else []
    try:
        return policy(keys, quorum)
    except NoteError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def pinned_keys(values: list[str], option: str = "--key") -> list[VerifierKey]:
    """Verifier keys from the command line: vkey strings or files holding them."""
    keys = []
    for value in values:
        path = Path(value)
        lines = path.read_text().splitlines() if path.is_file() else [value]
        for line in lines:
            if line.strip() and not line.lstrip().startswith("#"):
                try:
                    keys.append(VerifierKey.parse(line))
                except NoteError as exc:
                    err.print(f"[red]bad key {line.strip()!r}: {exc}[/red]")
                    raise typer.Exit(2) from None
    if not keys:
        err.print(f"[red]pin at least one key with {option}[/red]")
        raise typer.Exit(2)
    return keys


def _print_report(report: dict[str, object]) -> None:
    print(orjson.dumps(report).decode())
    if not report["ok"]:
        err.print(f"[red]FAILED[/red]: {report.get('reason')}")
        raise typer.Exit(1)
    err.print("[green]verified[/green]")


def _bar() -> Progress:
    # Refreshed by the progress callback, not by a thread: with no thread running, the
    # verifier may fork its worker processes instead of spawning them.
    return Progress(TextColumn("verifying"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("records"), TimeElapsedColumn(), console=err, transient=True,
                    auto_refresh=False)


def verify_export_command(
    file: Annotated[Path, typer.Argument(exists=True, help="The export, or a directory of "
                                                          "tiles (bloodtrace export-tiles)")],
    key: KeyOption,
    min_size: Annotated[int, typer.Option(help="Fail unless a checkpoint covers at least this "
                                               "many records (a size you know the log reached)")]
    = 0,
    workers: Annotated[int | None, typer.Option(help="Processes (default: every core)")] = None,
    witness: WitnessOption = None,
    quorum: QuorumOption = None,
    latest: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False,
        help="A newer checkpoint cosigned by the pinned witnesses (e.g. saved from a "
             "witness's <prefix>/<sha256(origin)>/checkpoint): says whether the export was "
             "cut before the log's witnessed size")] = None,
) -> None:
    """Verify an export offline: re-hash every record, recompute the chain and the Merkle
    root at every checkpoint, check every signature against the pinned keys; with --witness,
    the closing checkpoint needs --quorum cosignatures by pinned witnesses. Exit 1 on fault."""
    from app.log.offline import against_latest, closing_note, witnessed
    from app.log.offline_parallel import verify_export_file

    keys = pinned_keys(key)
    witnesses = witness_policy(witness, quorum)
    if file.is_dir():
        from app.log.tiles_verify import verify_tiles

        _print_report(verify_tiles(lambda p: (file / p).read_bytes(), keys, witnesses,
                                   min_size).as_dict())
        return
    try:
        with file.open("rb") as lines:
            header = orjson.loads(lines.readline())
        total = int(header["to"]) - int(header["from"]) + 1
        first = int(header["from"]) - 1
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        total, first = None, 0
    with _bar() as bar:
        task = bar.add_task("verify", total=total)
        report = verify_export_file(
            file, keys, min_size=min_size, workers=workers,
            progress=lambda n: bar.update(task, completed=n - first, refresh=True))
    if witnesses is not None:
        with file.open("rb") as tail:
            tail.seek(max(0, file.stat().st_size - TAIL_BYTES))
            closing = closing_note(tail.read(), report.verified_to)
        report = witnessed(report, closing, witnesses)
        if latest is not None:
            report = against_latest(report, latest.read_text(), keys, witnesses, closing)
            if report.ok and not report.complete:
                err.print(f"[yellow]the export ends at record {report.verified_to}; the "
                          f"witnesses saw the log at {report.witnessed_size}: it was cut[/yellow]")
    elif latest is not None:
        err.print("[red]--latest needs --witness: only witnesses make a head trustworthy[/red]")
        raise typer.Exit(2)
    _print_report(report.as_dict())


def verify_unit_command(
    bundle: Annotated[Path, typer.Argument(
        exists=True, dir_okay=False,
        help="A unit bundle (GET /v1/proofs/units/{id}), or its tlog proofs (?format=tlog-proof)")],
    key: KeyOption,
    witness: WitnessOption = None,
    quorum: QuorumOption = None,
) -> None:
    """Verify one unit's records and their inclusion proofs under a signed checkpoint (and,
    with --witness, its cosignatures)."""
    from app.log.bundle import verify_unit_bundle
    from app.log.tlog_proof import HEADER, ProofFormatError, as_bundle

    raw = bundle.read_bytes()
    try:
        document = (as_bundle(raw.decode("utf-8")) if raw.startswith(HEADER.encode())
                    else orjson.loads(raw))
    except (orjson.JSONDecodeError, UnicodeDecodeError):
        document = {}
    except ProofFormatError as exc:
        _print_report({"ok": False, "reason": f"not a c2sp.org/tlog-proof@v1 text: {exc}"})
    _print_report(verify_unit_bundle(document, pinned_keys(key),
                                     witness_policy(witness, quorum)).as_dict())


def export_command(
    from_: Annotated[int, typer.Option("--from", min=1)] = 1,
    to: Annotated[int | None, typer.Option(min=1, help="Default: the latest checkpoint")] = None,
    out: Annotated[Path | None, typer.Option(help="Write here instead of stdout")] = None,
) -> None:
    """Export records, checkpoints and keys as JSON lines, enough to verify offline."""
    import asyncpg

    from app.bootstrap import resolve_admin_url
    from app.config import Settings
    from app.store.export_reader import open_export

    settings = Settings()

    async def run() -> None:
        pool = await asyncpg.create_pool(resolve_admin_url(settings), min_size=1, max_size=2)
        assert pool is not None
        try:
            stream = await open_export(pool, settings.log_origin, from_, to)
            target = out.open("wb") if out is not None else sys.stdout.buffer
            try:
                async for chunk in stream:
                    target.write(chunk)
            finally:
                if out is not None:
                    target.close()
                else:
                    target.flush()
        finally:
            await pool.close()

    from app.errors import DomainError

    try:
        asyncio.run(run())
    except DomainError as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from None


log_keys_app = typer.Typer(help="The keys that sign checkpoints.", no_args_is_help=True)


@log_keys_app.command("show")
def log_keys_show() -> None:
    """Print the verifier keys of the configured signing keys (auditors pin these)."""
    from app.config import Settings
    from app.signing_keys import load_signers

    for signer in load_signers(Settings()):
        print(signer.verifier)


@log_keys_app.command("generate")
def log_keys_generate(
    out: Annotated[Path, typer.Option(help="PEM file to append the new key to")],
) -> None:
    """Append a new Ed25519 key to a PEM file (rotation: it signs beside the old one)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from app.config import Settings
    from app.log.checkpoints import private_key_pem
    from app.log.notes import NoteSigner
    from app.signing_keys import generate_key_file

    key = generate_key_file(out)
    if key is None:
        key = Ed25519PrivateKey.generate()
        with out.open("ab") as pem:
            pem.write(private_key_pem(key))
    print(NoteSigner(Settings().log_origin, key).verifier)


@log_keys_app.command("retire")
def log_keys_retire(
    vkey: Annotated[str, typer.Argument(help="The verifier key to retire")],
) -> None:
    """Close a key's validity window now; remove it from the key file as well."""
    import asyncpg

    from app.bootstrap import resolve_admin_url
    from app.config import Settings
    from app.store.checkpoint_store import retire_key

    async def run() -> bool:
        con = await asyncpg.connect(resolve_admin_url(Settings()))
        try:
            return await retire_key(con, vkey)
        finally:
            await con.close()

    if not asyncio.run(run()):
        err.print("[red]unknown or already retired[/red]")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the verifiable-log commands to the ``bloodtrace`` CLI."""
    app.command("export")(export_command)
    app.command("verify-export")(verify_export_command)
    app.command("verify-unit")(verify_unit_command)
    from app.cli import tiles
    from app.cli.witness import witness_app

    tiles.register(app)
    app.add_typer(witness_app, name="witness")
    app.add_typer(log_keys_app, name="log-keys")
