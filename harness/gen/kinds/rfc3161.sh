#!/usr/bin/env bash
# rfc3161 0.0.1: rekor's fixture response and responses from an `openssl ts`
# TSA (sha256 and sha512 digests, with and without nonce).
# Refused at upload and hand-made as stored bodies (indexed anyway, §10):
# a rejection response, a response over 10 KiB, a response whose CMS
# signature does not verify. Hand-made: trailing bytes after a response
# (Go ignores them), bytes that are no response at all (refused by both).
set -euo pipefail
K="$GEN_KEYS"
for i in $(seq 12); do cat "$K/cert-mixed.crt"; done >many-certs.pem
{ cat "$K/ts.cnf"; echo "certs = $PWD/many-certs.pem"; } >ts-big.cnf
printf 'timestamped one\n' >d1.txt
printf 'timestamped two\n' >d2.txt
reply() { # QUERYFILE OUT [CONF]
    openssl ts -reply -config "${3:-$K/ts.cnf}" -queryfile "$1" -signer "$K/tsa.crt" -inkey "$K/tsa.key" \
        -out "$2" 2>/dev/null
}
openssl ts -query -data d1.txt -sha256 -cert -out q1.tsq 2>/dev/null
openssl ts -query -data d2.txt -sha512 -cert -no_nonce -out q2.tsq 2>/dev/null
openssl ts -query -data d1.txt -sha1 -cert -out q-sha1.tsq 2>/dev/null
reply q1.tsq r1.tsr
reply q2.tsq r2.tsr
reply q-sha1.tsq rejected.tsr
reply q1.tsq big.tsr ts-big.cnf
python3 - "$1" <<'PY'
import sys
from genlib import Out, b64, read, env
out = Out(sys.argv[1])
fixture = env("REKOR_MOD") + "/pkg/types/rfc3161/tests/test.tsr"

def proposed(label, data, **kw):
    out.proposed(label, "rfc3161", "0.0.1", {"tsr": {"content": b64(data)}}, **kw)

def stored(label, data):
    body = {"apiVersion": "0.0.1", "kind": "rfc3161", "spec": {"tsr": {"content": b64(data)}}}
    out.stored(label, body, "rfc3161", "0.0.1")

proposed("fixture", fixture)
proposed("openssl-ts-with-cert", "r1.tsr")
proposed("openssl-ts-sha512-no-nonce", "r2.tsr")
big, rejected = read("big.tsr"), read("rejected.tsr")
assert len(big) > 10 * 1024, len(big)
broken = bytearray(read("r1.tsr"))
broken[-1] ^= 0x01  # last byte of the signature value
proposed("status-rejection-refused", rejected, expect_reject=True)
proposed("over-10-kib-refused", big, expect_reject=True)
proposed("bad-signature-refused", bytes(broken), expect_reject=True)
stored("status-rejection", rejected)
stored("over-10-kib", big)
stored("bad-signature", bytes(broken))
stored("trailing-bytes", read("r2.tsr") + b"trailing")
stored("not-a-response", b"\x30\x03\x02\x01")
PY
