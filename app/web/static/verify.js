// Verification in the browser (WEB.md §2): a unit's records against the latest signed
// checkpoint, and consistency between two checkpoints. Nothing here takes the server's word:
// every leaf and node hash is recomputed with WebCrypto SHA-256, every checkpoint is opened
// with WebCrypto Ed25519 against the key pinned in the page, every witness cosignature against
// the witness keys pinned in the page.
//
// Formats: RFC 9162 (leaf = SHA-256(0x00 || record), node = SHA-256(0x01 || l || r), proof
// checks as in transparency-dev/merkle, which app/log/merkle.py follows), C2SP signed-note,
// tlog-checkpoint and tlog-cosignature (cosignature/v1). No string shown here is written in
// this file: each message is a data-msg-* attribute of the section's [data-verify-messages]
// element, from the page's catalogue.

const encoder = new TextEncoder();
const EM_DASH = "\u2014 ";
const ED25519 = 0x01;
const COSIGNATURE_V1 = 0x04;

/** A verification that failed: `code` names the message, `at` the position or checkpoint. */
export class VerifyError extends Error {
  constructor(code, params = {}, at = null) {
    super(code);
    this.code = code;
    this.params = params;
    this.at = at;
  }
}

/** WebCrypto is missing or lacks Ed25519: verification cannot be done here. */
class Unavailable extends Error {
  constructor(code) {
    super(code);
    this.code = code;
  }
}

// --- bytes ------------------------------------------------------------------------------------

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict standard base64 (as C2SP and the API write it) to bytes, or null. */
export function fromBase64(text) {
  if (typeof text !== "string" || !B64.test(text)) return null;
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function same(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

// --- RFC 9162 hashing and proofs -------------------------------------------------------------

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/** RFC 9162 leaf hash: SHA-256(0x00 || record). */
export function leafHash(record) {
  return sha256(concat(Uint8Array.of(0), record));
}

/** RFC 9162 interior node hash: SHA-256(0x01 || left || right). */
export function nodeHash(left, right) {
  return sha256(concat(Uint8Array.of(1), left, right));
}

// Tree sizes go to 2**62: BigInt, since JavaScript's bit operators stop at 32 bits.
function bitLength(x) {
  return x > 0n ? x.toString(2).length : 0;
}

function popCount(x) {
  return x.toString(2).split("1").length - 1;
}

function decompose(index, size) {
  const inner = bitLength(index ^ (size - 1n));
  return [inner, popCount(index >> BigInt(inner))];
}

function checkHashes(hashes) {
  if (hashes.some((h) => !(h instanceof Uint8Array) || h.length !== 32)) {
    throw new VerifyError("hash-size");
  }
}

async function chainInner(seed, proof, index) {
  for (let i = 0; i < proof.length; i++) {
    seed = (index >> BigInt(i)) & 1n ? await nodeHash(proof[i], seed) : await nodeHash(seed, proof[i]);
  }
  return seed;
}

async function chainInnerRight(seed, proof, index) {
  for (let i = 0; i < proof.length; i++) {
    if ((index >> BigInt(i)) & 1n) seed = await nodeHash(proof[i], seed);
  }
  return seed;
}

async function chainBorderRight(seed, proof) {
  for (const h of proof) seed = await nodeHash(h, seed);
  return seed;
}

/** The root an inclusion proof of leaf `index` (a BigInt) in a tree of `size` leads to,
 * after checking the proof's exact length (RFC 9162 §2.1.3.2). */
export async function rootFromInclusion(leaf, index, size, proof) {
  if (!(index >= 0n && index < size)) {
    throw new VerifyError("leaf-outside", { index, size });
  }
  checkHashes([leaf, ...proof]);
  const [inner, border] = decompose(index, size);
  if (proof.length !== inner + border) {
    throw new VerifyError("proof-length", { got: proof.length, want: inner + border });
  }
  return chainBorderRight(await chainInner(leaf, proof.slice(0, inner), index), proof.slice(inner));
}

/** Throws a VerifyError unless `proof` shows leaf `index` in the tree of `size` with `root`. */
export async function verifyInclusion(leaf, index, size, proof, root) {
  if (!same(await rootFromInclusion(leaf, index, size, proof), root)) {
    throw new VerifyError("proof-root");
  }
}

/** Throws a VerifyError unless the tree of `size2` (BigInt) extends the tree of `size1`. */
export async function verifyConsistency(size1, size2, proof, root1, root2) {
  checkHashes(proof);
  // Everything extends the empty tree, so such a "proof" proves nothing: refuse it.
  if (size1 <= 0n || size2 < size1) {
    throw new VerifyError("consistency-sizes", { from: size1, to: size2 });
  }
  if (size1 === size2) {
    if (proof.length || !same(root1, root2)) throw new VerifyError("consistency-equal");
    return;
  }
  if (!proof.length) throw new VerifyError("proof-length", { got: 0, want: 1 });
  let [inner, border] = decompose(size1 - 1n, size2);
  const shift = bitLength(size1 & -size1) - 1;
  inner -= shift;
  let seed = proof[0];
  let start = 1;
  if (size1 === 1n << BigInt(shift)) {
    seed = root1;
    start = 0;
  }
  if (proof.length !== start + inner + border) {
    throw new VerifyError("proof-length", { got: proof.length, want: start + inner + border });
  }
  const rest = proof.slice(start);
  const mask = (size1 - 1n) >> BigInt(shift);
  const first = await chainBorderRight(await chainInnerRight(seed, rest.slice(0, inner), mask), rest.slice(inner));
  if (!same(first, root1)) throw new VerifyError("consistency-first");
  const second = await chainBorderRight(await chainInner(seed, rest.slice(0, inner), mask), rest.slice(inner));
  if (!same(second, root2)) throw new VerifyError("consistency-second");
}

// --- C2SP signed notes, checkpoints and cosignatures -----------------------------------------

/** A verifier key `name+hexid+base64(type || public key)`, its key ID recomputed. */
export async function parseVerifierKey(vkey) {
  const parts = typeof vkey === "string" ? vkey.trim().split("+") : [];
  const [name, hexId] = parts;
  const material = parts.slice(2).join("+");
  const raw = fromBase64(material);
  if (parts.length < 3 || !name || /\s/.test(name) || !raw || raw.length !== 33 ||
      ![ED25519, COSIGNATURE_V1].includes(raw[0]) || !/^[0-9a-fA-F]{8}$/.test(hexId)) {
    throw new VerifyError("key-format", { key: String(vkey) });
  }
  const id = (await sha256(concat(encoder.encode(name + "\n"), raw))).slice(0, 4);
  if (toHex(id) !== hexId.toLowerCase()) throw new VerifyError("key-id", { key: name });
  return { name, type: raw[0], id, public: raw.slice(1), text: vkey.trim() };
}

async function importKey(key) {
  try {
    return await crypto.subtle.importKey("raw", key.public, { name: "Ed25519" }, false, ["verify"]);
  } catch (error) {
    if (error && error.name === "NotSupportedError") throw new Unavailable("unavailable-ed25519");
    throw new VerifyError("key-format", { key: key.name });
  }
}

function parseNote(raw) {
  // eslint-disable-next-line no-control-regex
  if (typeof raw !== "string" || /[\u0000-\u0009\u000b-\u001f]/.test(raw) || !raw.endsWith("\n")) {
    throw new VerifyError("note-format");
  }
  const cut = raw.lastIndexOf("\n\n");
  if (cut < 0) throw new VerifyError("note-format");
  const text = raw.slice(0, cut + 1);
  const lines = raw.slice(cut + 2).split("\n").slice(0, -1);
  if (!lines.length) throw new VerifyError("note-format");
  const signatures = lines.map((line) => {
    if (!line.startsWith(EM_DASH)) throw new VerifyError("note-format");
    const [name, encoded, extra] = line.slice(EM_DASH.length).split(" ");
    const blob = fromBase64(encoded);
    if (!name || extra !== undefined || !blob || blob.length < 5) throw new VerifyError("note-format");
    return { name, id: blob.slice(0, 4), blob: blob.slice(4) };
  });
  return { text, signatures };
}

function parseCheckpoint(text) {
  const lines = text.split("\n");
  if (lines.length < 4 || lines[lines.length - 1] !== "" || lines.slice(0, -1).some((l) => !l)) {
    throw new VerifyError("checkpoint-format");
  }
  const [origin, sizeText, rootText] = lines;
  const root = fromBase64(rootText);
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || !root || root.length !== 32) {
    throw new VerifyError("checkpoint-format");
  }
  return { origin, size: BigInt(sizeText), root };
}

function signedBy(note, key) {
  return note.signatures.filter((s) => s.name === key.name && same(s.id, key.id));
}

/** Open a signed checkpoint with the pinned log key: its body parsed, or a VerifyError. */
export async function openCheckpoint(raw, logKey) {
  const note = parseNote(raw);
  const mine = signedBy(note, logKey);
  if (!mine.length) {
    const signers = note.signatures.map((s) => `${s.name}+${toHex(s.id)}`).join(", ");
    throw new VerifyError("no-signature", { key: logKey.name, signers });
  }
  const verifier = await importKey(logKey);
  for (const sig of mine) {
    if (sig.blob.length !== 64 ||
        !(await crypto.subtle.verify({ name: "Ed25519" }, verifier, sig.blob, encoder.encode(note.text)))) {
      throw new VerifyError("bad-signature", { key: logKey.name });
    }
  }
  const checkpoint = parseCheckpoint(note.text);
  // The log signs as its origin: a checkpoint of another log, even by the same key, is not ours.
  if (checkpoint.origin !== logKey.name) {
    throw new VerifyError("origin", { origin: checkpoint.origin, key: logKey.name });
  }
  return { note, checkpoint };
}

/** Each pinned witness's cosignature of the note: {key, status: ok|missing|bad, time}. */
export async function checkCosignatures(note, witnessKeys) {
  const results = [];
  for (const key of witnessKeys) {
    const lines = signedBy(note, key);
    if (!lines.length) {
      results.push({ key, status: "missing", time: null });
      continue;
    }
    let status = "ok";
    let time = null;
    const verifier = await importKey(key);
    for (const sig of lines) {
      // A plain Ed25519 note signature by a witness key counts too, as app/log/notes.py has it.
      const plain = key.type === ED25519;
      if (sig.blob.length !== (plain ? 64 : 72)) {
        status = "bad";
        continue;
      }
      const stamp = plain ? null : new DataView(sig.blob.buffer, sig.blob.byteOffset, 8).getBigUint64(0);
      const signed = plain ? encoder.encode(note.text)
        : concat(encoder.encode(`cosignature/v1\ntime ${stamp}\n`), encoder.encode(note.text));
      const good = (plain || stamp < 1n << 63n) &&
        (await crypto.subtle.verify({ name: "Ed25519" }, verifier, plain ? sig.blob : sig.blob.slice(8), signed));
      if (!good) status = "bad";
      else time = stamp;
    }
    results.push({ key, status, time: status === "ok" ? time : null });
  }
  return results;
}

// --- the page --------------------------------------------------------------------------------

function camel(code) {
  return "msg" + code.split("-").map((w) => w[0].toUpperCase() + w.slice(1)).join("");
}

/** The section's message for `code`, its {placeholders} filled in, numbers in the page's
 * locale. */
function message(section, code, params = {}) {
  const source = section.querySelector("[data-verify-messages]") ?? section;
  const template = source.dataset[camel(code)] ?? code;
  return template.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in params)) return whole;
    const value = params[name];
    return typeof value === "number" || typeof value === "bigint" ? formatNumber(value) : String(value);
  });
}

// The page says which locale (and digits) its own numbers and dates use: data-locale.
function pageLocale() {
  const marked = document.querySelector("[data-locale]");
  return (marked && marked.dataset.locale) || document.documentElement.lang || undefined;
}

function formatTime(seconds) {
  const marked = document.querySelector("[data-time-zone]");
  const timeZone = (marked && marked.dataset.timeZone) || "UTC";
  return new Intl.DateTimeFormat(pageLocale(), { dateStyle: "medium", timeStyle: "long", timeZone })
    .format(new Date(Number(seconds) * 1000));
}

function formatNumber(value) {
  return new Intl.NumberFormat(pageLocale()).format(value);
}

function addCheck(section, status, code, params) {
  const list = section.querySelector("[data-checks]");
  if (!list) return;
  const item = document.createElement("li");
  item.dataset.check = status;
  if (params.position !== undefined) item.dataset.position = String(params.position);
  item.textContent = `${message(section, "status-" + status)}: ${message(section, code, params)}`;
  list.append(item);
}

function setVerdict(section, state, code, params = {}, at = null) {
  const verdict = section.querySelector("[data-verdict]") ?? section;
  verdict.dataset.verification = state;
  section.dataset.verification = state;
  delete verdict.dataset.failedAt;
  delete verdict.dataset.failedPosition;
  if (state === "failed" && at) {
    verdict.dataset.failedAt = at.kind;
    if (at.position !== undefined) verdict.dataset.failedPosition = String(at.position);
  }
  verdict.textContent = message(section, code, params);
}

function reset(section) {
  const list = section.querySelector("[data-checks]");
  if (list) list.replaceChildren();
  const witnesses = section.querySelector("[data-witnesses]");
  if (witnesses) witnesses.replaceChildren();
  setVerdict(section, "pending", "checking");
}

function available() {
  if (!globalThis.crypto || !globalThis.crypto.subtle || typeof crypto.subtle.verify !== "function") {
    throw new Unavailable("unavailable-insecure");
  }
}

async function pinnedKeys(section) {
  const logKey = await parseVerifierKey(section.dataset.logKey);
  if (logKey.type !== ED25519) throw new VerifyError("key-format", { key: logKey.name });
  await importKey(logKey); // Ed25519 missing is "unavailable", before anything is fetched
  const witnessKeys = [];
  for (const vkey of JSON.parse(section.dataset.witnessKeys || "[]")) {
    witnessKeys.push(await parseVerifierKey(vkey));
  }
  return { logKey, witnessKeys, quorum: Number(section.dataset.witnessQuorum || 0) };
}

async function fetchAnswer(section, url, kind) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: kind } });
  if (!response.ok) throw new VerifyError("fetch", { status: response.status, url }, { kind: "fetch" });
  return kind === "application/json" ? response.json() : response.text();
}

/** Open the checkpoint and show its witnesses; a bad cosignature by a pinned witness fails. */
async function checkpointChecked(section, raw, keys, label) {
  let opened;
  try {
    opened = await openCheckpoint(raw, keys.logKey);
  } catch (error) {
    if (error instanceof VerifyError) error.at = { kind: "checkpoint" };
    throw error;
  }
  const size = opened.checkpoint.size;
  addCheck(section, "ok", label, { size, key: keys.logKey.name });
  const list = section.querySelector("[data-witnesses]");
  let good = 0;
  for (const result of await checkCosignatures(opened.note, keys.witnessKeys)) {
    const params = { witness: result.key.name, size,
                     time: result.time === null ? "–" : formatTime(result.time) };
    if (list) {
      const item = document.createElement("li");
      item.dataset.witness = result.key.name;
      item.dataset.cosignature = result.status;
      item.textContent = message(section, "witness-" + result.status, params);
      list.append(item);
    }
    if (result.status === "bad") throw new VerifyError("witness-bad", params, { kind: "checkpoint" });
    if (result.status === "ok") good += 1;
  }
  if (keys.witnessKeys.length) {
    const witnessed = good >= keys.quorum;
    section.dataset.witnessed = String(witnessed);
    addCheck(section, witnessed ? "ok" : "warning", witnessed ? "witnessed" : "not-witnessed",
             { count: good, quorum: keys.quorum });
  }
  return opened;
}

async function checkRecord(entry, previous, checkpoint, unit) {
  const position = entry && entry.position;
  if (!Number.isSafeInteger(position) || !(BigInt(position) > previous && BigInt(position) <= checkpoint.size)) {
    throw new VerifyError("record-order", { position: String(position), size: checkpoint.size },
                          { kind: "event", position: String(position) });
  }
  const at = { kind: "event", position };
  const text = typeof entry.record === "string" ? entry.record : "";
  let record;
  try {
    record = JSON.parse(text);
  } catch {
    throw new VerifyError("record-format", { position }, at);
  }
  if (!record || record.position !== position) throw new VerifyError("record-position", { position }, at);
  // A genuine record of another unit proves nothing about this one: it must name the unit.
  if (!text.includes(JSON.stringify(unit))) throw new VerifyError("record-unit", { position, unit }, at);
  const proof = Array.isArray(entry.proof) ? entry.proof.map(fromBase64) : [null];
  if (proof.some((h) => h === null)) throw new VerifyError("proof-format", { position }, at);
  try {
    await verifyInclusion(await leafHash(encoder.encode(text)), BigInt(position) - 1n, checkpoint.size,
                          proof, checkpoint.root);
  } catch (error) {
    if (!(error instanceof VerifyError)) throw error;
    throw new VerifyError(error.code, { ...error.params, position }, at);
  }
  return { position, type: String(record.type ?? "") };
}

// --- what this browser verified before ---------------------------------------------------------

function seenKey(logKey) {
  return `bloodtrace.verified-checkpoint.${logKey.name}+${toHex(logKey.id)}`;
}

function recall(logKey) {
  try {
    const seen = JSON.parse(globalThis.localStorage?.getItem(seenKey(logKey)) ?? "null");
    const root = seen && fromBase64(seen.root);
    return seen && /^[1-9][0-9]*$/.test(seen.size) && root && root.length === 32
      ? { size: BigInt(seen.size), root } : null;
  } catch {
    return null; // no storage here (a private window): nothing to compare with
  }
}

function remember(logKey, checkpoint) {
  try {
    globalThis.localStorage?.setItem(seenKey(logKey), JSON.stringify(
      { size: String(checkpoint.size), root: btoa(String.fromCharCode(...checkpoint.root)) }));
  } catch {
    // no storage: the next visit has nothing to compare with, which it says
  }
}

/** The log must extend the largest checkpoint this browser verified before: never smaller,
 * never another root at the same size, and consistent with it (RFC 9162) when larger. A log
 * cut back, or rewritten and re-signed, fails here even with every signature good. */
async function checkAgainstSeen(section, logKey, checkpoint) {
  const seen = recall(logKey);
  if (!seen) return;
  const at = { kind: "checkpoint" };
  const sizes = { from: seen.size, to: checkpoint.size };
  if (checkpoint.size < seen.size) throw new VerifyError("seen-larger", sizes, at);
  if (checkpoint.size === seen.size) {
    if (!same(checkpoint.root, seen.root)) throw new VerifyError("seen-fork", sizes, at);
  } else {
    const answer = await fetchAnswer(
      section, `/v1/proofs/consistency?from_size=${seen.size}&to_size=${checkpoint.size}`, "application/json");
    const proof = Array.isArray(answer.proof) ? answer.proof.map(fromBase64) : [null];
    try {
      if (proof.some((h) => h === null)) throw new VerifyError("proof-format", {});
      await verifyConsistency(seen.size, checkpoint.size, proof, seen.root, checkpoint.root);
    } catch (error) {
      if (!(error instanceof VerifyError)) throw error;
      throw new VerifyError("seen-inconsistent", { ...sizes, reason: message(section, error.code, error.params) }, at);
    }
  }
  addCheck(section, "ok", "seen-consistent", sizes);
}

/** Hold the events the page itself shows (`data-verify-shown`, each `[data-position]` with
 * its `[data-type]`) to the verified records: each is marked `data-verified` ok, unsigned
 * (newer than the checkpoint), withheld, or failed; the first failure is returned. */
function checkShown(section, verified, failed, withheld, size) {
  const selector = section.dataset.verifyShown;
  if (!selector) return null;
  let first = null;
  const unsigned = [];
  for (const item of document.querySelectorAll(selector)) {
    const position = Number(item.dataset.position);
    if (!Number.isSafeInteger(position) || failed.has(position)) {
      item.dataset.verified = "failed";
      continue;
    }
    const at = { kind: "event", position };
    let error = null;
    if (verified.has(position)) {
      const shown = item.dataset.type;
      if (shown !== undefined && shown !== verified.get(position)) {
        error = new VerifyError("shown-type", { position, shown, type: verified.get(position) }, at);
      }
    } else if (BigInt(position) > size) {
      item.dataset.verified = "unsigned";
      unsigned.push(position);
      continue;
    } else if (withheld.includes(position)) {
      item.dataset.verified = "withheld";
      continue;
    } else {
      error = new VerifyError("shown-missing", { position }, at);
    }
    item.dataset.verified = error ? "failed" : "ok";
    if (error) {
      addCheck(section, "failed", error.code, error.params);
      first = first ?? error;
    }
  }
  if (unsigned.length) {
    addCheck(section, "warning", "unsigned", { size, positions: unsigned.map((p) => formatNumber(p)).join(", ") });
  }
  return first;
}

function fail(section, error) {
  if (error instanceof Unavailable) {
    setVerdict(section, "unavailable", error.code);
    return;
  }
  if (!(error instanceof VerifyError)) {
    setVerdict(section, "failed", "error", { detail: String(error) }, { kind: "error" });
    return;
  }
  const at = error.at ?? { kind: "checkpoint" };
  const reason = message(section, error.code, error.params);
  const code = at.kind === "event" ? "failed-event" : at.kind === "fetch" ? "failed-fetch" : "failed-checkpoint";
  setVerdict(section, "failed", code, { position: at.position, reason }, at);
}

/** Verify one unit's records (section `[data-verify-unit]`) against the latest checkpoint. */
export async function verifyUnit(section) {
  reset(section);
  try {
    available();
    const keys = await pinnedKeys(section);
    const unit = section.dataset.verifyUnit;
    const response = await fetch(`/v1/proofs/units/${encodeURIComponent(unit)}`,
                                 { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 404) throw new Unavailable("unavailable-unsigned");
    if (!response.ok) throw new VerifyError("fetch", { status: response.status }, { kind: "fetch" });
    const bundle = await response.json();
    const { checkpoint } = await checkpointChecked(section, bundle.checkpoint, keys, "checkpoint-signed");
    await checkAgainstSeen(section, keys.logKey, checkpoint);
    let previous = 0n;
    let first = null;
    const verified = new Map();
    const failed = new Set();
    for (const entry of Array.isArray(bundle.records) ? bundle.records : []) {
      try {
        const good = await checkRecord(entry, previous, checkpoint, unit);
        addCheck(section, "ok", "event-included", good);
        verified.set(good.position, good.type);
      } catch (error) {
        if (!(error instanceof VerifyError)) throw error;
        addCheck(section, "failed", error.code, error.params);
        failed.add(Number(error.at.position));
        first = first ?? error;
      }
      previous = BigInt(Number.isSafeInteger(entry && entry.position) ? entry.position : previous);
    }
    const withheld = (Array.isArray(bundle.withheld) ? bundle.withheld : []).filter(Number.isSafeInteger);
    if (withheld.length) {
      addCheck(section, "warning", "withheld", { positions: withheld.map((p) => formatNumber(p)).join(", ") });
    }
    first = first ?? checkShown(section, verified, failed, withheld, checkpoint.size);
    if (first) throw first;
    if (!verified.size) throw new VerifyError("no-records", {}, { kind: "checkpoint" });
    remember(keys.logKey, checkpoint);
    setVerdict(section, "ok", "verified", { size: checkpoint.size, key: keys.logKey.name, count: verified.size });
  } catch (error) {
    fail(section, error);
  }
}

/** Open the latest checkpoint and its cosignatures (section `[data-verify-checkpoint]`). */
export async function verifyLatestCheckpoint(section) {
  reset(section);
  try {
    available();
    const keys = await pinnedKeys(section);
    const raw = await fetchAnswer(section, "/v1/checkpoints/latest/note", "text/plain");
    const { checkpoint } = await checkpointChecked(section, raw, keys, "checkpoint-signed");
    setVerdict(section, "ok", "checkpoint-verified", { size: checkpoint.size, key: keys.logKey.name });
  } catch (error) {
    fail(section, error);
  }
}

/** Check that the checkpoint at `to` extends the one at `from`: both signatures, then the
 * RFC 9162 consistency proof between the roots they sign (section `[data-verify-consistency]`). */
export async function verifyConsistencyBetween(section, from, to) {
  reset(section);
  try {
    available();
    const keys = await pinnedKeys(section);
    const older = await fetchAnswer(section, `/v1/checkpoints/${encodeURIComponent(from)}`, "application/json");
    const newer = await fetchAnswer(section, `/v1/checkpoints/${encodeURIComponent(to)}`, "application/json");
    const first = (await checkpointChecked(section, older.note, keys, "checkpoint-signed")).checkpoint;
    const second = (await checkpointChecked(section, newer.note, keys, "checkpoint-signed")).checkpoint;
    if (first.size > second.size) {
      throw new VerifyError("consistency-sizes", { from: first.size, to: second.size }, { kind: "consistency" });
    }
    const answer = await fetchAnswer(
      section, `/v1/proofs/consistency?from_size=${first.size}&to_size=${second.size}`, "application/json");
    const proof = Array.isArray(answer.proof) ? answer.proof.map(fromBase64) : [null];
    const sizes = { from: first.size, to: second.size };
    try {
      if (proof.some((h) => h === null)) throw new VerifyError("proof-format", {});
      await verifyConsistency(first.size, second.size, proof, first.root, second.root);
    } catch (error) {
      if (!(error instanceof VerifyError)) throw error;
      addCheck(section, "failed", error.code, { ...error.params, ...sizes });
      throw new VerifyError(error.code, { ...error.params, ...sizes }, { kind: "consistency" });
    }
    addCheck(section, "ok", "consistent", sizes);
    setVerdict(section, "ok", "consistency-verified", { ...sizes, key: keys.logKey.name });
  } catch (error) {
    if (error instanceof VerifyError && error.at && error.at.kind === "consistency") {
      setVerdict(section, "failed", "failed-consistency",
                 { reason: message(section, error.code, error.params) }, error.at);
      return;
    }
    fail(section, error);
  }
}

function start() {
  for (const section of document.querySelectorAll("[data-verify-unit]")) verifyUnit(section);
  for (const section of document.querySelectorAll("[data-verify-checkpoint]")) verifyLatestCheckpoint(section);
  for (const section of document.querySelectorAll("[data-verify-consistency]")) {
    const form = section.querySelector("form");
    if (!form) continue;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const data = new FormData(form);
      verifyConsistencyBetween(section, String(data.get("from_size")), String(data.get("to_size")));
    });
  }
}

if (typeof document !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
}
