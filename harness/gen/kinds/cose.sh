#!/usr/bin/env bash
# cose 0.0.1: ES256 COSE_Sign1 messages (harness/stack/artifacts.py) with an
# in-toto content type, without a content type, with AAD and an e-mail
# certificate. Every one differs by design (§4.12/§10): Go writes the
# constant hash of the empty message, rekor-backfill the stored envelope and
# payload hashes. Hand-made: a DSA key (Go cannot canonicalize it: the key
# hash is left out, the rest stays).
set -euo pipefail
K="$GEN_KEYS"
printf 'cose subject\n' >s.txt
python3 "$ARTIFACTS" statement stmt.json s.txt
printf 'plain cose payload\n' >plain.txt
AAD="$(printf 'additional data' | base64)"
python3 "$ARTIFACTS" cose intoto.cbor stmt.json "$K/ec256.key" --content-type application/vnd.in-toto+json
python3 "$ARTIFACTS" cose plain.cbor plain.txt "$K/ec256.key"
python3 "$ARTIFACTS" cose aad.cbor plain.txt "$K/ec256.key" --content-type text/plain --aad "$AAD"
python3 - "$1" "$AAD" <<'PY'
import hashlib, sys
from genlib import Out, b64, read, env
out, aad = Out(sys.argv[1]), sys.argv[2]
K = env("GEN_KEYS")

def entry(label, message, key, aad=None):
    data = {"aad": aad} if aad else {}
    out.proposed(label, "cose", "0.0.1", {"message": b64(message), "publicKey": b64(key), "data": data})

entry("intoto-content-type", "intoto.cbor", K + "/ec256.pub")
entry("no-content-type", "plain.cbor", K + "/ec256.pub")
entry("aad-cert-email", "aad.cbor", K + "/cert-email.crt", aad)

h = lambda p: hashlib.sha256(read(p)).hexdigest()
spec = {"data": {"envelopeHash": {"algorithm": "sha256", "value": h("plain.cbor")},
                 "payloadHash": {"algorithm": "sha256", "value": h("plain.txt")}},
        "publicKey": b64(K + "/dsa.pub")}
out.stored("dsa-key-not-canonicalizable", {"apiVersion": "0.0.1", "kind": "cose", "spec": spec}, "cose", "0.0.1")
PY
