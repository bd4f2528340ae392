#!/usr/bin/env bash
# jar 0.0.1: rekor's fixture jar and, when a JDK is installed, jars signed
# by jarsigner (EC key with an e-mail SAN, RSA key). Hand-made stored bodies
# exercise the PKCS #7 re-encoding (relic Unmarshal/Detach/Marshal):
# raw DER instead of PEM, signatures with embedded content and two signers
# (detached, SETs sorted), a degenerate SignedData carrying a CRL, trailing
# zero bytes (accepted) and trailing garbage, a truncated structure and a
# PEM block of the wrong type (refused by both).
set -euo pipefail
K="$GEN_KEYS"
FIXTURE="$REKOR_MOD/pkg/types/jar/v0.0.1/tests/test.jar"
unzip -q -o "$FIXTURE" 'META-INF/*.EC' -d fixture

jars=()
if command -v keytool >/dev/null && command -v jarsigner >/dev/null; then
    mkdir -p src/org/example META-INF
    printf 'jar payload\n' >src/org/example/Data.txt
    printf 'Manifest-Version: 1.0\nCreated-By: harness/gen\n' >META-INF/MANIFEST.MF
    for alg in EC RSA; do
        rm -f "app-$alg.jar"
        (cd src && zip -q -r "../app-$alg.jar" .) && zip -q "app-$alg.jar" META-INF/MANIFEST.MF
        if [ "$alg" = EC ]; then
            opts=(-keyalg EC -groupname secp256r1 -ext "SAN=email:Jar.Signer@Example.COM")
        else
            opts=(-keyalg RSA -keysize 2048)
        fi
        keytool -genkeypair -keystore "ks-$alg.p12" -storetype PKCS12 -storepass harness -alias signer \
            -validity 3650 -dname "CN=Jar Signer $alg, EMAILADDRESS=Jar.Signer@Example.COM" "${opts[@]}" 2>/dev/null
        jarsigner -keystore "ks-$alg.p12" -storepass harness "app-$alg.jar" signer >/dev/null 2>&1
        jars+=("app-$alg.jar")
    done
fi

printf 'signed content\n' >content.txt
openssl cms -sign -binary -nodetach -in content.txt -outform DER -out attached-two.p7 \
    -signer "$K/cert-mixed.crt" -inkey "$K/rsa2048.key" -signer "$K/cert-email.crt" -inkey "$K/ec256.key"
openssl smime -sign -binary -nodetach -md sha1 -in content.txt -outform PEM -out smime.pem \
    -signer "$K/cert-email.crt" -inkey "$K/ec256.key"
# A CRL from a small openssl CA with one revoked certificate.
mkdir -p ca && : >ca/index.txt && echo 01 >ca/crlnumber
cat >ca/ca.cnf <<CNF
[ ca ]
default_ca = gen
[ gen ]
database = $PWD/ca/index.txt
crlnumber = $PWD/ca/crlnumber
certificate = $K/ca.crt
private_key = $K/ca.key
default_md = sha256
default_crl_days = 30
CNF
openssl ca -config ca/ca.cnf -revoke "$K/leaf.crt" -batch 2>/dev/null
openssl ca -config ca/ca.cnf -gencrl -out ca/crl.pem -batch 2>/dev/null
openssl crl2pkcs7 -in ca/crl.pem -certfile "$K/ca.crt" -out crl.p7.pem

python3 - "$1" "$FIXTURE" "${jars[@]}" <<'PY'
import glob, hashlib, sys
from genlib import Out, b64, read
out, fixture, jars = Out(sys.argv[1]), sys.argv[2], sys.argv[3:]

out.proposed("fixture", "jar", "0.0.1", {"archive": {"content": b64(fixture)}})
for jar in jars:
    out.proposed("jarsigner-" + jar, "jar", "0.0.1", {"archive": {"content": b64(jar)}})

def pem(der, kind="PKCS7"):
    text = b64(der)
    return ("-----BEGIN %s-----\n%s\n-----END %s-----\n" % (
        kind, "\n".join(text[i:i + 64] for i in range(0, len(text), 64)), kind)).encode()

def stored(label, signature):
    spec = {"archive": {"hash": {"algorithm": "sha256", "value": hashlib.sha256(label.encode()).hexdigest()}},
            "signature": {"content": b64(signature),
                          "publicKey": {"content": b64(b"not used by IndexKeys")}}}
    out.stored(label, {"apiVersion": "0.0.1", "kind": "jar", "spec": spec}, "jar", "0.0.1")

fixture_der = read(glob.glob("fixture/META-INF/*.EC")[0])
stored("raw-der-not-pem", fixture_der)
stored("embedded-content-two-signers", pem(read("attached-two.p7")))
stored("smime-embedded-content-sha1", read("smime.pem"))
stored("degenerate-with-crl", read("crl.p7.pem"))
stored("trailing-zero-bytes", fixture_der + b"\0\0\0")
stored("trailing-garbage", fixture_der + b"\0\1")
stored("truncated", fixture_der[:-10])
stored("pem-type-cms", pem(fixture_der, "CMS"))
PY
