"""verify.js in Chromium, on its own page: the real include (``_verification.html``, with its
Arabic messages) served at the real server's origin by route interception, the module run
against the real service's proofs, and every kind of tampering refused, at its place. Also the
module's hashing and proof checks against the official RFC 9162 vectors and app/log/merkle.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from jinja2 import Environment
from playwright.async_api import Browser, Page, Route

from app.log import merkle as M
from app.web.i18n import Languages
from tests.web.vfy_fixtures import vfy_network
from tests.web.vfy_support import (
    LOG,
    NO_WEBCRYPTO,
    VerifyNetwork,
    alter_json,
    flip_base64,
    screenshot,
    verdict,
)

__all__ = ["vfy_network"]
WEB = Path(__file__).resolve().parents[2] / "app" / "web"
VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "rfc9162"
HARNESS = "/__vfy__/"


def _languages() -> Callable[[str], Environment]:
    languages = Languages(globals_={"static_url": lambda name: HARNESS + name})
    return languages.env


def section_html(lang: str, template: str, **context: Any) -> str:
    env = _languages()(lang)
    body = env.get_template(template).render(**context)
    return (f'<!doctype html><html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">'
            f"<head><meta charset='utf-8'></head><body>{body}</body></html>")


async def open_harness(page: Page, html: str) -> None:
    """``html`` at the server's origin (so the module's /v1 calls are same-origin), with the
    module itself served from the worktree."""
    module = (WEB / "static" / "verify.js").read_bytes()

    async def serve(route: Route) -> None:
        if route.request.url.endswith(".js"):
            await route.fulfill(body=module, content_type="text/javascript")
        else:
            await route.fulfill(body=html, content_type="text/html; charset=utf-8")

    await page.route(f"**{HARNESS}**", serve)


@pytest.fixture
async def page(browser: Browser, vfy_network: VerifyNetwork) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=vfy_network.base_url)
    page = await context.new_page()

    async def authorised(route: Route) -> None:  # the harness has no session: a bearer key
        await route.continue_(headers={**route.request.headers, **vfy_network.auth})

    await page.route("**/v1/**", authorised)
    yield page
    await context.close()


def unit_section(network: VerifyNetwork, unit: str, log_key: str | None = None,
                 lang: str = "ar") -> str:
    return section_html(lang, "_verification.html", unit_id=unit,
                        log_key=log_key or network.log_key,
                        witness_keys=[network.witness.vkey], witness_quorum=1)


async def check_unit(page: Page, network: VerifyNetwork, unit: str, **kwargs: Any) -> dict:
    await open_harness(page, unit_section(network, unit, **kwargs))
    await page.goto(HARNESS + "unit")
    return await verdict(page)


def bundle_of(network: VerifyNetwork, unit: str) -> dict[str, Any]:
    answer = httpx.get(f"{network.base_url}/v1/proofs/units/{unit}", headers=network.auth)
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


async def test_a_unit_verifies_in_arabic_with_its_witness(page: Page, vfy_network: VerifyNetwork):
    unit = vfy_network.units[0]
    result = await check_unit(page, vfy_network, unit)
    bundle = bundle_of(vfy_network, unit)
    size = bundle["checkpoint"].split("\n")[1]
    assert result["state"] == "ok", result
    assert f"تم التحقق مقابل نقطة التدقيق {int(size):,}" in result["text"]
    assert LOG.name in result["text"]
    checks = page.locator("[data-checks] li")
    assert await checks.count() == 1 + len(bundle["records"]) + 1  # checkpoint, events, witnesses
    positions = [await item.get_attribute("data-position")
                 for item in await page.locator("[data-checks] li[data-position]").all()]
    assert positions == [str(r["position"]) for r in bundle["records"]]
    witness = page.locator("[data-witnesses] li")
    assert await witness.count() == 1
    assert await witness.get_attribute("data-cosignature") == "ok"
    assert "directorate.example/w" in (await witness.text_content() or "")
    await screenshot(page, "verify-module-unit-ar")


def _flip_proof(index: int, byte: int = 0) -> Callable[[dict], None]:
    def alter(bundle: dict) -> None:
        record = bundle["records"][index]
        record["proof"][0] = flip_base64(record["proof"][0], byte)
    return alter


def _record(index: int, change: Callable[[dict], None]) -> Callable[[dict], None]:
    def alter(bundle: dict) -> None:
        entry = bundle["records"][index]
        record = orjson.loads(entry["record"])
        change(record)
        entry["record"] = orjson.dumps(record, option=orjson.OPT_SORT_KEYS).decode()
    return alter


def _note(change: Callable[[list[str]], None]) -> Callable[[dict], None]:
    def alter(bundle: dict) -> None:
        lines = bundle["checkpoint"].split("\n")
        change(lines)
        bundle["checkpoint"] = "\n".join(lines)
    return alter


def _signature_line(name: str, change: Callable[[bytes], bytes]) -> Callable[[list[str]], None]:
    def alter(lines: list[str]) -> None:
        for i, line in enumerate(lines):
            if line.startswith(f"\u2014 {name} "):
                blob = base64.b64decode(line.rsplit(" ", 1)[1])
                lines[i] = f"\u2014 {name} {base64.b64encode(change(blob)).decode()}"
                return
        raise AssertionError(f"no signature by {name}")
    return alter


def _flip(at: int) -> Callable[[bytes], bytes]:
    def change(blob: bytes) -> bytes:
        raw = bytearray(blob)
        raw[at] ^= 0x01
        return bytes(raw)
    return change


def _set_line(index: int, value: Callable[[str], str]) -> Callable[[list[str]], None]:
    def alter(lines: list[str]) -> None:
        lines[index] = value(lines[index])
    return alter


def _other_checkpoint(network: VerifyNetwork) -> Callable[[dict], None]:
    """The proofs (for the latest tree) sent with an earlier, genuinely signed checkpoint that
    already holds the unit's first record."""
    listed = httpx.get(f"{network.base_url}/v1/checkpoints").json()["checkpoints"]

    def alter(bundle: dict) -> None:
        first = bundle["records"][0]["position"]
        older = [c for c in listed[1:] if c["size"] >= first]
        assert older, "no earlier checkpoint holds the unit's first record"
        bundle["checkpoint"] = older[-1]["note"]
        bundle["records"] = [r for r in bundle["records"] if r["position"] <= older[-1]["size"]]
    return alter


def _swap_positions(bundle: dict) -> None:
    bundle["records"][0]["position"] += 1  # the leaf index the proof is checked at


def _extra_hash(bundle: dict) -> None:
    bundle["records"][1]["proof"].append(bundle["records"][1]["proof"][0])


def _short_proof(bundle: dict) -> None:
    bundle["records"][1]["proof"].pop()


# (what is changed, the change, where verification must fail: "event" index or "checkpoint")
TAMPERING: list[tuple[str, Callable[[VerifyNetwork], Callable[[dict], Any]], str | int]] = [
    ("a proof hash byte", lambda n: _flip_proof(1, 31), 1),
    ("a proof hash byte of the first record", lambda n: _flip_proof(0, 7), 0),
    ("an extra proof hash", lambda n: _extra_hash, 1),
    ("a proof hash left out", lambda n: _short_proof, 1),
    ("the event type in a record", lambda n: _record(2, lambda r: r.update(type="Tampered")), 2),
    ("the recording time of a record",
     lambda n: _record(1, lambda r: r.update(recorded_at="2020-01-01T00:00:00.000000Z")), 1),
    ("the leaf index", lambda n: _swap_positions, "shifted"),
    ("the tree size", lambda n: _note(_set_line(1, lambda s: str(int(s) + 1))), "checkpoint"),
    ("the root hash", lambda n: _note(_set_line(2, flip_base64)), "checkpoint"),
    ("the checkpoint origin", lambda n: _note(_set_line(0, lambda s: s + "x")), "checkpoint"),
    ("the chain-head extension", lambda n: _note(_set_line(3, lambda s: s[:-6] + "AAAAA=")),
     "checkpoint"),
    ("the log's signature", lambda n: _note(_signature_line(LOG.name, _flip(10))), "checkpoint"),
    ("the signature's key hash", lambda n: _note(_signature_line(LOG.name, _flip(0))),
     "checkpoint"),
    ("the witness's cosignature",
     lambda n: _note(_signature_line("directorate.example/w", _flip(20))), "checkpoint"),
    ("the witness's cosignature time",
     lambda n: _note(_signature_line("directorate.example/w", _flip(7))), "checkpoint"),
    ("a proof for a different checkpoint", _other_checkpoint, 0),
]


@pytest.mark.parametrize("what, tamper, where", TAMPERING, ids=[t[0] for t in TAMPERING])
async def test_tampering_in_flight_fails_at_its_place(page: Page, vfy_network: VerifyNetwork,
                                                      what: str, tamper: Any, where: Any):
    unit = vfy_network.units[0]
    bundle = bundle_of(vfy_network, unit)
    assert len(bundle["records"]) >= 3
    await alter_json(page, "**/v1/proofs/units/**", tamper(vfy_network), vfy_network.auth)
    result = await check_unit(page, vfy_network, unit)
    assert result["state"] == "failed", (what, result)
    if where == "checkpoint":
        assert result["at"] == "checkpoint", (what, result)
        assert result["position"] is None
    else:
        position = (bundle["records"][0]["position"] + 1 if where == "shifted"
                    else bundle["records"][where]["position"])
        assert (result["at"], result["position"]) == ("event", str(position)), (what, result)
        assert f"{position:,}" in result["text"]
        failed = page.locator("[data-checks] li[data-check='failed']")
        assert await failed.count() >= 1
        assert await failed.first.get_attribute("data-position") == str(position)


async def test_a_wrong_pinned_key_fails_at_the_checkpoint(page: Page, vfy_network: VerifyNetwork):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from app.log.notes import NoteSigner

    unit = vfy_network.units[0]
    renamed = NoteSigner("someone.else/log", LOG.key).verifier  # same key, another name
    other = NoteSigner(LOG.name, Ed25519PrivateKey.from_private_bytes(b"w" * 32)).verifier
    for key in (renamed, other):
        result = await check_unit(page, vfy_network, unit, log_key=str(key))
        assert (result["state"], result["at"]) == ("failed", "checkpoint"), result
    name, key_id, material = str(LOG.verifier).split("+")
    forged = f"{name}+{'%08x' % (int(key_id, 16) ^ 1)}+{material}"  # a wrong key hash
    result = await check_unit(page, vfy_network, unit, log_key=forged)
    assert (result["state"], result["at"]) == ("failed", "checkpoint"), result


async def test_without_webcrypto_it_is_unavailable_never_ok(page: Page,
                                                            vfy_network: VerifyNetwork):
    await page.add_init_script(NO_WEBCRYPTO)
    result = await check_unit(page, vfy_network, vfy_network.units[0], lang="en")
    assert result["state"] == "unavailable", result
    assert "HTTPS" in result["text"] and "TLS" in result["text"]
    await screenshot(page, "verify-module-unavailable-en")


async def test_a_server_verdict_is_never_taken(page: Page, vfy_network: VerifyNetwork):
    """A service that answers a bare 'ok' instead of proofs gets no 'ok' from the page."""
    async def liar(route: Route) -> None:
        await route.fulfill(json={"ok": True, "verified": True}, status=200)

    await page.route("**/v1/proofs/units/**", liar)
    result = await check_unit(page, vfy_network, vfy_network.units[0])
    assert result["state"] == "failed", result


# --- the official vectors, in the page, beside app/log/merkle.py -------------------------------


def _b(text: str | None) -> bytes:
    return base64.b64decode(text) if text else b""


def _python_says(kind: str, v: dict[str, Any]) -> bool:
    try:
        if kind == "inclusion":
            M.verify_inclusion(_b(v["leafHash"]), v["leafIdx"], v["treeSize"],
                               [_b(p) for p in v["proof"] or []], _b(v["root"]))
        else:
            M.verify_consistency(v["size1"], v["size2"], [_b(p) for p in v["proof"] or []],
                                 _b(v["root1"]), _b(v["root2"]))
    except M.ProofError:
        return False
    return True


VECTOR_RUNNER = """async ([kind, cases]) => {
  const m = await import('/__vfy__/verify.js');
  const b = (t) => t ? m.fromBase64(t) : new Uint8Array(0);
  const out = [];
  for (const v of cases) {
    try {
      if (kind === 'inclusion') {
        await m.verifyInclusion(b(v.leafHash), BigInt(v.leafIdx), BigInt(v.treeSize),
                                (v.proof || []).map(b), b(v.root));
      } else {
        await m.verifyConsistency(BigInt(v.size1), BigInt(v.size2), (v.proof || []).map(b),
                                  b(v.root1), b(v.root2));
      }
      out.push(true);
    } catch (e) {
      if (!(e instanceof m.VerifyError)) throw e;
      out.push(false);
    }
  }
  return out;
}"""


@pytest.mark.parametrize("kind", ["inclusion", "consistency"])
async def test_the_module_agrees_with_the_official_vectors_and_python(page: Page, kind: str):
    paths = sorted((VECTORS / kind).rglob("*.json"))
    cases = [json.loads(p.read_text()) for p in paths]
    assert len(cases) > 90
    await open_harness(page, "<!doctype html><html><body></body></html>")
    await page.goto(HARNESS + "vectors")
    browser = await page.evaluate(VECTOR_RUNNER, [kind, cases])
    python = [_python_says(kind, v) for v in cases]
    official = [not v["wantErr"] for v in cases]
    assert browser == python == official
    assert sum(official) >= 5 and official.count(False) >= 50  # both kinds of case are there


async def test_the_module_hashes_leaves_and_nodes_as_python_does(page: Page):
    ref = json.loads((VECTORS / "reference-roots.json").read_text())
    await open_harness(page, "<!doctype html><html><body></body></html>")
    await page.goto(HARNESS + "hashes")
    got = await page.evaluate("""async (inputs) => {
      const m = await import('/__vfy__/verify.js');
      const hex = (h) => Uint8Array.from(h.match(/../g) || [], (x) => parseInt(x, 16));
      const leaves = [];
      for (const input of inputs) leaves.push(await m.leafHash(hex(input)));
      const root = async (hs) => hs.length === 1 ? hs[0] : await (async () => {
        let k = 1; while (k * 2 < hs.length) k *= 2;
        return m.nodeHash(await root(hs.slice(0, k)), await root(hs.slice(k)));
      })();
      const roots = [];
      for (let n = 1; n <= leaves.length; n++) roots.push(m.toHex(await root(leaves.slice(0, n))));
      return {leaves: leaves.map(m.toHex), roots};
    }""", ref["leaf_inputs_hex"])
    leaves = [M.leaf_hash(bytes.fromhex(x)) for x in ref["leaf_inputs_hex"]]
    assert got["leaves"] == [h.hex() for h in leaves]
    assert got["roots"] == [M.root(leaves[:n]).hex() for n in range(1, len(leaves) + 1)]
    assert got["roots"] == ref["root_by_tree_size_hex"][1:]


async def test_a_witness_key_of_plain_ed25519_counts_as_a_cosigner(page: Page,
                                                                   vfy_network: VerifyNetwork):
    """As app/log/notes.py has it: a plain note signature by a pinned witness key counts."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from app.log.notes import NoteSigner, add_signature

    plain = NoteSigner("plain.example/w", Ed25519PrivateKey.from_private_bytes(b"q" * 32))
    unit = vfy_network.units[0]

    def cosign(bundle: dict) -> None:
        bundle["checkpoint"] = add_signature(bundle["checkpoint"], plain)

    html = section_html("en", "_verification.html", unit_id=unit, log_key=vfy_network.log_key,
                        witness_keys=[str(plain.verifier), vfy_network.witness.vkey],
                        witness_quorum=2)
    await alter_json(page, "**/v1/proofs/units/**", cosign, vfy_network.auth)
    await open_harness(page, html)
    await page.goto(HARNESS + "plain")
    assert (await verdict(page))["state"] == "ok"
    statuses = [await li.get_attribute("data-cosignature")
                for li in await page.locator("[data-witnesses] li").all()]
    assert statuses == ["ok", "ok"]
    assert await page.locator("section").get_attribute("data-witnessed") == "true"

    def forged(bundle: dict) -> None:
        cosign(bundle)
        _note(_signature_line("plain.example/w", _flip(12)))(bundle)

    await page.unroute("**/v1/proofs/units/**")
    await alter_json(page, "**/v1/proofs/units/**", forged, vfy_network.auth)
    await page.goto(HARNESS + "plain")
    result = await verdict(page)
    assert (result["state"], result["at"]) == ("failed", "checkpoint"), result
