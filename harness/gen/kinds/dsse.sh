#!/usr/bin/env bash
# dsse 0.0.1: in-toto envelopes signed by P-256, by P-256 + RSA (stored
# signatures sorted), by an e-mail certificate's key, a text/plain payload,
# rekor's fixture, and an envelope with a URL-safe base64 signature: the
# server stores it verbatim, and then it fails the model's base64 pattern
# on every read (both tools: parse error, docs/INDEX_KEYS.md §4.11).
set -euo pipefail
K="$GEN_KEYS"
printf 'dsse subject\n' >s.txt
python3 "$ARTIFACTS" statement stmt.json s.txt
printf 'not an in-toto statement\n' >plain.txt
IT=application/vnd.in-toto+json
python3 "$ARTIFACTS" dsse ec.json stmt.json "$IT" "$K/ec256.key"
python3 "$ARTIFACTS" dsse multi.json stmt.json "$IT" "$K/ec256.key" "$K/rsa2048.key"
python3 "$ARTIFACTS" dsse cert.json stmt.json "$IT" "$K/ec256.key"
python3 "$ARTIFACTS" dsse plain.json plain.txt text/plain "$K/ec256.key"
python3 "$ARTIFACTS" dsse urlsafe.json stmt.json "$IT" "$K/ec384.key" --urlsafe
python3 - "$1" <<'PY'
import sys
from genlib import Out, b64, read, env
out = Out(sys.argv[1])
K, T = env("GEN_KEYS"), env("REKOR_MOD") + "/tests"

def entry(label, envelope, keys):
    spec = {"proposedContent": {"envelope": read(envelope).decode(), "verifiers": [b64(k) for k in keys]}}
    out.proposed(label, "dsse", "0.0.1", spec)

entry("ec256", "ec.json", [K + "/ec256.pub"])
entry("two-signatures", "multi.json", [K + "/ec256.pub", K + "/rsa2048.pub"])
entry("cert-email", "cert.json", [K + "/cert-email.crt"])
entry("text-plain-payload", "plain.json", [K + "/ec256.pub"])
entry("fixture", T + "/intoto_dsse.json", [T + "/intoto_dsse.pem"])
entry("urlsafe-signature-unreadable", "urlsafe.json", [K + "/ec384.pub"])
PY
