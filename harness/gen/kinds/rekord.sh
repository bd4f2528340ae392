#!/usr/bin/env bash
# rekord 0.0.1 with x509 (EC key, e-mail certificate, Ed25519 certificate),
# minisign (default and legacy signatures) and ssh (Ed25519 and RSA keys
# with e-mail comments, dropped by canonicalization), plus rekor's
# minisign/ssh/x509 fixtures. PGP is covered by kinds/pgp.sh. Hand-made:
# an x509 DSA key, which Go parses but cannot canonicalize (the key hash is
# then silently left out).
set -euo pipefail
K="$GEN_KEYS"
printf 'rekord artifact\n' >a.txt
openssl dgst -sha256 -sign "$K/ec256.key" -out ec256.sig a.txt
openssl dgst -sha256 -sign "$K/ec256.key" -out cert-email.sig a.txt
openssl pkeyutl -sign -rawin -inkey "$K/ed25519.key" -in a.txt -out ed25519.sig
openssl dgst -sha256 -sign "$K/dsa.key" -out dsa.sig a.txt
have_minisign=0
if command -v minisign >/dev/null; then
    have_minisign=1
    minisign -G -W -p minisign.pub -s minisign.key >/dev/null
    minisign -S -s minisign.key -m a.txt -x a.minisig >/dev/null
    minisign -S -l -s minisign.key -m a.txt -x a-legacy.minisig >/dev/null 2>&1 || cp a.minisig a-legacy.minisig
fi
ssh-keygen -q -t ed25519 -N '' -C 'Dev.User@Example.COM' -f ssh-ed25519
ssh-keygen -q -t rsa -b 2048 -N '' -C 'ops@example.com' -f ssh-rsa
ssh-keygen -q -Y sign -n file -f ssh-ed25519 a.txt && mv a.txt.sig ssh-ed25519.sig
ssh-keygen -q -Y sign -n file -f ssh-rsa a.txt && mv a.txt.sig ssh-rsa.sig
python3 - "$1" "$have_minisign" <<'PY'
import hashlib, os, sys
from genlib import Out, b64, read, env
out, have_minisign = Out(sys.argv[1]), sys.argv[2] == "1"
K, P = env("GEN_KEYS"), env("REKOR_MOD") + "/pkg/pki"

def spec(fmt, key, sig, artifact="a.txt"):
    return {"data": {"content": b64(artifact)},
            "signature": {"format": fmt, "content": b64(sig), "publicKey": {"content": b64(key)}}}

def entry(label, *args, **kw):
    out.proposed(label, "rekord", "0.0.1", spec(*args, **kw))

entry("x509-ec256-key", "x509", K + "/ec256.pub", "ec256.sig")
entry("x509-cert-email", "x509", K + "/cert-email.crt", "cert-email.sig")
entry("x509-ed25519-key", "x509", K + "/ed25519.pub", "ed25519.sig")
if have_minisign:
    entry("minisign", "minisign", "minisign.pub", "a.minisig")
    entry("minisign-legacy", "minisign", "minisign.pub", "a-legacy.minisig")
entry("ssh-ed25519", "ssh", "ssh-ed25519.pub", "ssh-ed25519.sig")
entry("ssh-rsa", "ssh", "ssh-rsa.pub", "ssh-rsa.sig")
entry("fixture-minisign", "minisign", P + "/minisign/testdata/minisign.pub",
      P + "/minisign/testdata/hello_world.txt.minisig", P + "/minisign/testdata/hello_world.txt")
entry("fixture-ssh", "ssh", P + "/ssh/testdata/id_rsa.pub",
      P + "/ssh/testdata/hello_world.txt.sig", P + "/ssh/testdata/hello_world.txt")
entry("fixture-x509", "x509", P + "/x509/testdata/ec.pub",
      P + "/x509/testdata/hello_world.txt.sig", P + "/x509/testdata/hello_world.txt")

# Stored form: data.hash instead of data.content.
def stored(label, fmt, key, sig):
    s = spec(fmt, key, sig)
    s["data"] = {"hash": {"algorithm": "sha256", "value": hashlib.sha256(read("a.txt")).hexdigest()}}
    out.stored(label, {"apiVersion": "0.0.1", "kind": "rekord", "spec": s}, "rekord", "0.0.1")

stored("x509-dsa-key-not-canonicalizable", "x509", K + "/dsa.pub", "dsa.sig")
PY
