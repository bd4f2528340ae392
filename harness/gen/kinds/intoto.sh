#!/usr/bin/env bash
# intoto 0.0.2 and 0.0.1: DSSE envelopes of in-toto statements (sha256 +
# sha512 and UPPERCASE subject digests, SLSA v0.2 materials) made by
# harness/stack/artifacts.py: one P-256 signature, P-256 + RSA signatures,
# a URI-SAN certificate; rekor's fixture envelope. Proposed the way
# rekor-cli builds them (0.0.2: payload and signature texts base64'd again).
set -euo pipefail
K="$GEN_KEYS"
printf 'subject one\n' >s1.txt
printf 'subject two\n' >s2.txt
python3 "$ARTIFACTS" statement stmt1.json s1.txt s2.txt \
    --material "git+https://github.com/MyOrg/Repo@refs/heads/main=sha1:$(sha1sum s1.txt | cut -d' ' -f1)"
python3 "$ARTIFACTS" statement stmt2.json s2.txt
IT=application/vnd.in-toto+json
python3 "$ARTIFACTS" dsse env-ec.json stmt1.json "$IT" "$K/ec256.key"
python3 "$ARTIFACTS" dsse env-multi.json stmt2.json "$IT" "$K/ec256.key" "$K/rsa2048.key"
python3 "$ARTIFACTS" dsse env-uri.json stmt2.json "$IT" "$K/ec384.key"
python3 - "$1" <<'PY'
import base64, hashlib, json, sys
from genlib import Out, b64, read, env
out = Out(sys.argv[1])
K, T = env("GEN_KEYS"), env("REKOR_MOD") + "/tests"

def v002(label, envelope, keys):
    raw = read(envelope)
    e = json.loads(raw)
    sigs = [{"keyid": s.get("keyid", ""), "sig": b64(s["sig"].encode()), "publicKey": b64(k)}
            for s, k in zip(e["signatures"], keys)]
    spec = {"content": {"envelope": {"payloadType": e["payloadType"], "payload": b64(e["payload"].encode()),
                                     "signatures": sigs},
                        "hash": {"algorithm": "sha256", "value": hashlib.sha256(raw).hexdigest()}}}
    out.proposed(label, "intoto", "0.0.2", spec)

def v001(label, envelope, key):
    raw = read(envelope)
    spec = {"content": {"envelope": raw.decode(),
                        "hash": {"algorithm": "sha256", "value": hashlib.sha256(raw).hexdigest()}},
            "publicKey": b64(key)}
    out.proposed(label, "intoto", "0.0.1", spec)

v002("v2-ec256", "env-ec.json", [K + "/ec256.pub"])
v002("v2-two-signatures", "env-multi.json", [K + "/ec256.pub", K + "/rsa2048.pub"])
v002("v2-cert-uri", "env-uri.json", [K + "/cert-uri.crt"])
v002("v2-fixture", T + "/intoto_dsse.json", [T + "/intoto_dsse.pem"])
v001("v1-ec256", "env-ec.json", K + "/ec256.pub")
v001("v1-cert-uri", "env-uri.json", K + "/cert-uri.crt")
PY
