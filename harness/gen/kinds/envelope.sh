#!/usr/bin/env bash
# Stored bodies whose envelope is wrong before any kind-specific code runs
# (docs/INDEX_KEYS.md §1.1/§1.2): unknown kind, the abstract ProposedEntry kind,
# unknown and missing apiVersion, non-object and missing spec, truncated
# JSON, bytes that are not JSON, a body that is not base64 — all refused by
# both tools — and two that Go accepts: bytes after the first JSON value,
# and CR/LF inside the body's base64.
set -euo pipefail
printf 'envelope artifact\n' >a.txt
openssl dgst -sha256 -sign "$GEN_KEYS/ec256.key" -out a.sig a.txt
python3 - "$1" <<'PY'
import base64, hashlib, json, sys
from genlib import Out, b64, canonical_json, env, read
out = Out(sys.argv[1])

key = b64(env("GEN_KEYS") + "/ec256.pub")
good = {"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
    "data": {"hash": {"algorithm": "sha256", "value": hashlib.sha256(read("a.txt")).hexdigest()}},
    "signature": {"content": b64("a.sig"), "publicKey": {"content": key}}}}

def variant(label, change, kind="hashedrekord", version="0.0.1"):
    body = json.loads(json.dumps(good))
    change(body)
    out.stored(label, body, kind, version)

variant("unknown-kind", lambda b: b.update(kind="hashedrekords"), "hashedrekords")
variant("kind-proposed-entry", lambda b: b.update(kind="ProposedEntry"), "ProposedEntry")
variant("unknown-api-version", lambda b: b.update(apiVersion="0.0.2"), version="0.0.2")
variant("missing-api-version", lambda b: b.pop("apiVersion"), version="none")
variant("spec-not-an-object", lambda b: b.update(spec=["not", "an", "object"]))
variant("missing-spec", lambda b: b.pop("spec"))
text = canonical_json(good)
out.stored("truncated-json", text[: len(text) // 2], "hashedrekord", "0.0.1")
out.stored("not-json", b"\x00\x01binary", "unknown", "unknown")
out.stored("bytes-after-the-json-value", text + b" {\"ignored\": true}", "hashedrekord", "0.0.1")
# The corpus field itself: base64 with CR/LF (Go ignores them), and not base64.
with open(out.stored_path, "a") as f:
    wrapped = base64.b64encode(text).decode()
    wrapped = "\r\n".join(wrapped[i:i + 60] for i in range(0, len(wrapped), 60))
    f.write(json.dumps({"label": "body-base64-with-crlf", "body": wrapped,
                        "kind": "hashedrekord", "apiVersion": "0.0.1"}) + "\n")
    f.write(json.dumps({"label": "body-not-base64", "body": "not base64!",
                        "kind": "unknown", "apiVersion": "unknown"}) + "\n")
PY
