#!/usr/bin/env bash
# hashedrekord 0.0.1: bare keys (EC P-256/384/521 with sha256/384/512, RSA),
# certificates with mixed-case, multi-kind and OtherName SANs, a chain, an
# UPPERCASE digest, rekor's Ed25519ph fixture; refused: pure Ed25519.
# Hand-made stored bodies: a signature that no longer verifies (Go's
# re-verification, §10), base64 with CR/LF and non-zero trailing bits
# (Go accepts both), missing padding (Go refuses).
set -euo pipefail
K="$GEN_KEYS"
printf 'hashedrekord artifact one\n' >a1.txt
printf 'hashedrekord artifact two\n' >a2.txt
sign() { openssl dgst "-${4:-sha256}" -sign "$K/$1.key" -out "$3" "$2"; } # KEY FILE OUT [digest]
sign ec256 a1.txt ec256.sig
sign rsa2048 a1.txt rsa2048.sig
sign ec384 a1.txt ec384.sig sha384
sign ec521 a1.txt ec521.sig sha512
sign ec256 a2.txt cert-email.sig
sign ec384 a2.txt cert-uri.sig sha384
sign rsa2048 a2.txt cert-mixed.sig
sign ec256 a2.txt cert-othername.sig
sign ec256 a2.txt cert-othername-foreign.sig
sign ec256 a2.txt cert-othername-two.sig
sign leaf a2.txt chain.sig
sign ec256 a1.txt a1-again.sig
openssl pkeyutl -sign -rawin -inkey "$K/ed25519.key" -in a1.txt -out ed25519-pure.sig
CA="$REKOR_MOD/tests/client-algos-testdata"
python3 - "$1" "$CA" <<'PY'
import hashlib, sys
from genlib import Out, b64, read, env
out, ca = Out(sys.argv[1]), sys.argv[2]
K = env("GEN_KEYS")

def spec(key, sig, alg, digest):
    return {"data": {"hash": {"algorithm": alg, "value": digest}},
            "signature": {"content": b64(sig), "publicKey": {"content": b64(key)}}}

def h(alg, path):
    return hashlib.new(alg, read(path)).hexdigest()

def entry(label, key, sig, alg="sha256", artifact="a1.txt", **kw):
    out.proposed(label, "hashedrekord", "0.0.1", spec(key, sig, alg, h(alg, artifact)), **kw)

entry("ec256-key", K + "/ec256.pub", "ec256.sig")
entry("rsa2048-key", K + "/rsa2048.pub", "rsa2048.sig")
entry("ec384-key-sha384", K + "/ec384.pub", "ec384.sig", "sha384")
entry("ec521-key-sha512", K + "/ec521.pub", "ec521.sig", "sha512")
for cert in ["cert-email", "cert-uri", "cert-mixed", "cert-othername",
             "cert-othername-foreign", "cert-othername-two"]:
    alg = "sha384" if cert == "cert-uri" else "sha256"
    entry(cert, "%s/%s.crt" % (K, cert), cert + ".sig", alg, "a2.txt")
entry("chain-leaf-ca", K + "/chain.pem", "chain.sig", artifact="a2.txt")
out.proposed("uppercase-digest", "hashedrekord", "0.0.1",
             spec(K + "/ec256.pub", "a1-again.sig", "sha256", h("sha256", "a1.txt").upper()))
out.proposed("fixture-ec", "hashedrekord", "0.0.1",
             spec(ca + "/ec_public.pem", ca + "/file1.ec.sig", "sha256", h("sha256", ca + "/file1")))
out.proposed("fixture-ed25519ph-sha512", "hashedrekord", "0.0.1",
             spec(ca + "/ed25519_public.pem", ca + "/file1.ed25519ph.sig", "sha512", h("sha512", ca + "/file1")))
entry("ed25519-pure-refused", K + "/ed25519.pub", "ed25519-pure.sig", expect_reject=True)

# Hand-made stored bodies (the stored form is the proposed spec itself).
def stored(label, s):
    out.stored(label, {"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": s}, "hashedrekord", "0.0.1")

bad = spec(K + "/ec256.pub", "ec256.sig", "sha256", h("sha256", "a2.txt"))
stored("signature-no-longer-verifies", bad)
crlf = spec(K + "/cert-email.crt", "cert-email.sig", "sha256", h("sha256", "a2.txt"))
text = crlf["signature"]["publicKey"]["content"]
crlf["signature"]["publicKey"]["content"] = "\r\n".join(text[i:i + 76] for i in range(0, len(text), 76)) + "\n"
stored("base64-with-crlf", crlf)
# Non-zero unused bits before the padding: Go decodes to the same bytes.
trailing = spec(K + "/ec256.pub", "ec256.sig", "sha256", h("sha256", "a1.txt"))
sig = trailing["signature"]["content"]
alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
if sig.endswith("=="):
    i = len(sig) - 3
    trailing["signature"]["content"] = sig[:i] + alphabet[alphabet.index(sig[i]) | 0x0f] + "=="
elif sig.endswith("="):
    i = len(sig) - 2
    trailing["signature"]["content"] = sig[:i] + alphabet[alphabet.index(sig[i]) | 0x03] + "="
stored("base64-nonzero-trailing-bits", trailing)
unpadded = spec(K + "/ec256.pub", "ec256.sig", "sha256", h("sha256", "a1.txt"))
unpadded["signature"]["publicKey"]["content"] = unpadded["signature"]["publicKey"]["content"].rstrip("=")
if not unpadded["signature"]["publicKey"]["content"].endswith("="):
    unpadded["signature"]["publicKey"]["content"] = unpadded["signature"]["publicKey"]["content"][:-1]
stored("base64-missing-padding", unpadded)
PY
