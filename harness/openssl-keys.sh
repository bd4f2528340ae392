#!/usr/bin/env bash
# The openssl key and certificate fixture shared by the generated set
# (harness/gen/run.sh) and the real Rekor stack (harness/stack/populate.sh):
# one copy, so both exercise the same keys and SANs.
#
# usage: harness/openssl-keys.sh DIR
#
# Made fresh in DIR on every call: bare keys (EC P-256/384/521, RSA
# 2048/3072/4096, Ed25519, DSA, and a TSA RSA key) and self-signed
# certificates whose SANs cover docs/INDEX_KEYS.md §5.1.3 and §8: mixed-case
# e-mail/URI/DNS (Redis lowercases at upload, the Go backfill does not),
# IPv4 and IPv6, the Fulcio username OtherName, a foreign OtherName and two
# OtherNames (no OtherName subject), and a leaf issued by a CA (a
# two-certificate chain). Names: NAME.key, NAME.pub, NAME.crt, chain.pem.
set -euo pipefail

K="${1:?usage: openssl-keys.sh DIR}"
mkdir -p "$K"

genkey() { # NAME openssl-genpkey-args...
    local n="$1"; shift
    openssl genpkey "$@" -out "$K/$n.key" 2>/dev/null
    openssl pkey -in "$K/$n.key" -pubout -out "$K/$n.pub"
}
genkey ec256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
genkey ec384 -algorithm EC -pkeyopt ec_paramgen_curve:P-384
genkey ec521 -algorithm EC -pkeyopt ec_paramgen_curve:P-521
genkey rsa2048 -algorithm RSA -pkeyopt rsa_keygen_bits:2048
genkey rsa3072 -algorithm RSA -pkeyopt rsa_keygen_bits:3072
genkey rsa4096 -algorithm RSA -pkeyopt rsa_keygen_bits:4096
genkey ed25519 -algorithm ED25519
genkey ca -algorithm EC -pkeyopt ec_paramgen_curve:P-384
genkey leaf -algorithm EC -pkeyopt ec_paramgen_curve:P-256
genkey tsa -algorithm RSA -pkeyopt rsa_keygen_bits:2048
# DSA: Go parses the key but cannot re-encode it (no canonical value).
openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:1024 -out "$K/dsa.param" 2>/dev/null
openssl genpkey -paramfile "$K/dsa.param" -out "$K/dsa.key" 2>/dev/null
openssl pkey -in "$K/dsa.key" -pubout -out "$K/dsa.pub"

selfcert() { # NAME KEY SUBJ SAN
    openssl req -x509 -new -key "$K/$2.key" -subj "$3" -days 3650 -sha256 \
        -addext "subjectAltName=$4" -addext "keyUsage=critical,digitalSignature" \
        -addext "extendedKeyUsage=codeSigning" -out "$K/$1.crt" 2>/dev/null
}
selfcert cert-email ec256 "/CN=Email Signer" "email:Alice.Mixed@Example.COM"
selfcert cert-uri ec384 "/CN=Workflow Signer" \
    "URI:https://github.com/MyOrg/MyRepo/.github/workflows/Release.yml@refs/heads/Main"
selfcert cert-mixed rsa2048 "/CN=Mixed SANs/emailAddress=DN.Only@Example.COM" \
    "DNS:Build.Example.COM,email:bob@example.com,email:Carol@EXAMPLE.org,IP:10.1.2.3,IP:2001:DB8:0:0:0:0:0:1,URI:spiffe://Example.COM/ns/Default/sa/Builder"
selfcert cert-othername ec256 "/CN=Fulcio Username" \
    "otherName:1.3.6.1.4.1.57264.1.7;UTF8:Mixed.Case.User"
selfcert cert-othername-foreign ec256 "/CN=Foreign OtherName" \
    "email:Foreign@Example.COM,otherName:1.2.3.4;UTF8:not-fulcio"
selfcert cert-othername-two ec256 "/CN=Two OtherNames" \
    "otherName:1.3.6.1.4.1.57264.1.7;UTF8:first,otherName:1.3.6.1.4.1.57264.1.7;UTF8:second"
selfcert cert-ed25519 ed25519 "/CN=Ed25519 Signer" "email:Ed.Signer@Example.COM"

# A chain: leaf (e-mail + URI SAN) issued by a CA, leaf first.
openssl req -x509 -new -key "$K/ca.key" -subj "/CN=Harness CA/O=rekor-backfill" -days 3650 -sha384 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$K/ca.crt" 2>/dev/null
openssl req -new -key "$K/leaf.key" -subj "/CN=Chain Leaf" -out "$K/leaf.csr" 2>/dev/null
printf 'subjectAltName=email:Chain.Leaf@Example.COM,URI:https://Example.COM/Chain\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' >"$K/leaf.ext"
openssl x509 -req -in "$K/leaf.csr" -CA "$K/ca.crt" -CAkey "$K/ca.key" -CAcreateserial \
    -days 365 -sha256 -extfile "$K/leaf.ext" -out "$K/leaf.crt" 2>/dev/null
cat "$K/leaf.crt" "$K/ca.crt" >"$K/chain.pem"
