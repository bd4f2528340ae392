#!/usr/bin/env bash
# alpine 0.0.1: rekor's fixture package and key. Hand-made stored bodies:
# a certificate key (its SANs become subjects), an UPPERCASE package hash,
# and a DSA key, which Go parses but cannot canonicalize — a parse error
# for alpine (unlike rekord and cose, where only the key hash goes).
set -euo pipefail
python3 - "$1" <<'PY'
import sys
from genlib import Out, b64, env
out = Out(sys.argv[1])
K, T = env("GEN_KEYS"), env("REKOR_MOD") + "/pkg/types/alpine/tests"
out.proposed("fixture", "alpine", "0.0.1",
             {"package": {"content": b64(T + "/test_alpine.apk")}, "publicKey": {"content": b64(T + "/test_alpine.pub")}})

def stored(label, key, digest):
    spec = {"package": {"hash": {"algorithm": "sha256", "value": digest},
                        "pkginfo": {"pkgname": "gen", "pkgver": "1.0-r0", "size": "12"}},
            "publicKey": {"content": b64(key)}}
    out.stored(label, {"apiVersion": "0.0.1", "kind": "alpine", "spec": spec}, "alpine", "0.0.1")

digest = "ab" * 32
stored("cert-mixed-sans", K + "/cert-mixed.crt", digest)
stored("uppercase-hash", T + "/test_alpine.pub", digest.upper())
stored("dsa-key-not-canonicalizable", K + "/dsa.pub", digest)
PY
