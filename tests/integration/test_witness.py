"""A witness against real logs over HTTP: it cosigns a log that grows, and refuses one rebuilt
with a different history or cut back below what it saw, leaving its state untouched."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from app.cli.verifiable import register
from app.log import notes as N
from app.log import witness as W
from app.witness import http_log, runner
from tests.conftest import database_from
from tests.support.verifiable import ORIGIN, as_superuser, fill, verifiable_client

LOG = N.NoteSigner(ORIGIN, Ed25519PrivateKey.from_private_bytes(b"L" * 32))


@asynccontextmanager
async def served(open_for, url: str) -> AsyncIterator[http_log.HttpLog]:
    """The log at ``url`` over HTTP, for a synchronous witness running in a thread."""
    loop = asyncio.get_running_loop()
    async with open_for(url) as services, verifiable_client(services) as client:

        def forward(request: httpx.Request) -> httpx.Response:
            call = client.request(request.method, str(request.url))
            answer = asyncio.run_coroutine_threadsafe(call, loop).result(30)
            return httpx.Response(answer.status_code, headers=answer.headers,
                                  content=answer.content)

        with httpx.Client(transport=httpx.MockTransport(forward),
                          base_url="http://bt.test") as bridge:
            yield http_log.HttpLog("http://bt.test", bridge)


another_db = database_from


async def round_(open_for, url: str, state: Path, witness: N.NoteSigner, keys=None):
    async with served(open_for, url) as log:
        return await asyncio.to_thread(runner.run_witness, log, state, keys or [LOG.verifier],
                                       witness)


@pytest.fixture
def witness(tmp_path) -> N.NoteSigner:
    signer, created = runner.witness_signer(tmp_path / "witness.pem", "ngo.example/witness")
    assert created
    return signer


async def test_the_witness_cosigns_a_growing_log(fresh_db, open_for, tmp_path, witness):
    state = tmp_path / "state.json"
    await fill(open_for, fresh_db, [20], LOG)
    previous, first = await round_(open_for, fresh_db, state, witness)
    assert previous is None and first.size == 20
    await fill(open_for, fresh_db, [9, 6], LOG)
    previous, second = await round_(open_for, fresh_db, state, witness)
    assert (previous.size, second.size) == (20, 35)
    cp, good = N.open_checkpoint(second.note, [LOG.verifier, witness.verifier])
    assert cp.size == 35 and good == [LOG.verifier, witness.verifier]
    assert N.open_checkpoint(second.note, [witness.verifier])[1] == [witness.verifier]
    assert runner.load_state(state) == second
    _, again = await round_(open_for, fresh_db, state, witness)  # nothing new: same head
    assert again.size == 35


@pytest.mark.parametrize("rebuilt, why", [
    ([50], "does not extend the tree of 35"),  # another history, longer
    ([35], "fork: two different trees of 35"),  # another history, same size
])
async def test_a_log_rebuilt_with_another_history_is_refused(
    fresh_db, open_for, tmp_path, witness, pg_admin_url, template_db, rebuilt, why
):
    state = tmp_path / "state.json"
    await fill(open_for, fresh_db, [20, 15], LOG)
    await round_(open_for, fresh_db, state, witness)
    seen = state.read_bytes()
    async with another_db(pg_admin_url, template_db) as forged:
        await fill(open_for, forged, rebuilt, LOG, text="rewritten")  # same key, new history
        with pytest.raises(W.WitnessRefusal, match=why):
            await round_(open_for, forged, state, witness)
    assert state.read_bytes() == seen


async def test_a_log_cut_back_below_what_it_saw_is_refused(fresh_db, open_for, tmp_path, witness):
    state = tmp_path / "state.json"
    await fill(open_for, fresh_db, [20, 15], LOG)
    await round_(open_for, fresh_db, state, witness)
    await as_superuser(fresh_db, "DELETE FROM checkpoints WHERE size > 20")
    with pytest.raises(W.WitnessRefusal, match="shrank: it had 35 records, now claims 20"):
        await round_(open_for, fresh_db, state, witness)
    assert runner.load_state(state).size == 35


async def test_a_checkpoint_not_signed_by_the_pinned_log_key_is_refused(
    fresh_db, open_for, tmp_path, witness
):
    await fill(open_for, fresh_db, [5], LOG)
    other = N.NoteSigner(ORIGIN, Ed25519PrivateKey.from_private_bytes(b"O" * 32))
    with pytest.raises(W.WitnessRefusal, match="not signed by the pinned log key"):
        await round_(open_for, fresh_db, tmp_path / "s.json", witness, [other.verifier])
    assert not (tmp_path / "s.json").exists()


async def test_the_witness_command(fresh_db, open_for, tmp_path, monkeypatch):
    await fill(open_for, fresh_db, [12], LOG)
    app = typer.Typer()
    register(app)
    args = ["witness", "http://bt.test", "--state", str(tmp_path / "state.json"),
            "--log-key", str(LOG.verifier), "--key", str(tmp_path / "w.pem"),
            "--name", "ngo.example/w"]
    async with served(open_for, fresh_db) as log:
        monkeypatch.setattr(http_log, "HttpLog", lambda url: log)
        result = await asyncio.to_thread(CliRunner().invoke, app, args)
        assert result.exit_code == 0, result.output
        cosigned = result.stdout
        signer, _ = runner.witness_signer(tmp_path / "w.pem", "ngo.example/w")
        assert N.open_checkpoint(cosigned, [signer.verifier])[0].size == 12
        await as_superuser(fresh_db, "DELETE FROM checkpoints")
        refused = await asyncio.to_thread(CliRunner().invoke, app, args)
        assert refused.exit_code == 1
