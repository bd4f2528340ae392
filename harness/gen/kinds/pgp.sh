#!/usr/bin/env bash
# Proposed Rekor entries signed with real OpenPGP keys: rekord (format pgp),
# helm and rpm. Keys come from gpg (many algorithms and shapes), from
# go-crypto itself (pgpgen/: v6 and native-algorithm keys gpg 2.2 cannot
# make) and from Rekor v1.5.4's own test fixtures; every signature is made
# by the tool, so the server-side verification in
# `key-oracle -canonicalize` accepts them.
#
# usage: OUT=dir [SCRATCH=dir] harness/gen/kinds/pgp.sh
#   OUT      output directory; gets pgp.jsonl (one proposed entry per line,
#            the JSON rekor-cli POSTs), pgp.labels (what each line is, same
#            order) and pgp.raw.jsonl: for every rekord entry a body as the
#            keys step reads it ({"body": base64}) but holding the key as
#            uploaded (binary, private, with text around it...) instead of
#            its canonical form, to compare key parsing on inputs the
#            server would have rewritten
#   SCRATCH  work directory (default: a fresh temp dir, removed at exit)
#   PGP_MUTATIONS  if set to N > 0, also write pgp.mutations.jsonl: N bodies
#            with mutated copies of the keys (pgp_mutations.py), for a
#            differential check of key parsing with parity.sh
#   REKOR_MODULE_DIR  rekor v1.5.4 source (default: from the Go module cache)
#
# harness/gen/run.sh calls it with an output file instead (see below).
# By hand:
#   .harness/bin/key-oracle -canonicalize < $OUT/pgp.jsonl | grep '"body"' > bodies.jsonl
#   harness/parity.sh target/release/rekor-backfill bodies.jsonl
#   harness/parity.sh target/release/rekor-backfill $OUT/pgp.raw.jsonl
#   harness/parity.sh target/release/rekor-backfill $OUT/pgp.mutations.jsonl
set -euo pipefail

# Called by harness/gen/run.sh with the output file as $1: generate into a
# temporary OUT and convert to the generator's line format.
if [ $# -ge 1 ]; then
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/gen-pgp-out.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    OUT="$tmp" bash "${BASH_SOURCE[0]}"
    python3 "$(dirname "${BASH_SOURCE[0]}")/pgp_genlib.py" "$tmp" "$1"
    exit 0
fi

: "${OUT:?set OUT to the output directory}"
mkdir -p "$OUT"
if [ -n "${SCRATCH:-}" ]; then
    scratch=$SCRATCH
    mkdir -p "$scratch"
else
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/gen-pgp.XXXXXX")
    trap 'rm -rf "$scratch"' EXIT
fi
command -v gpg >/dev/null || { echo "pgp.sh: gpg is required" >&2; exit 2; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { echo "pgp.sh: a Go toolchain is required" >&2; exit 2; }
rekor_dir=${REKOR_MODULE_DIR:-}
if [ -z "$rekor_dir" ]; then
    rekor_dir=$(cd "$scratch" && GOFLAGS=-mod=mod go mod download -json github.com/sigstore/rekor@v1.5.4 |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
fi
[ -d "$rekor_dir/pkg/types/rpm/tests" ] || { echo "pgp.sh: rekor sources not found ($rekor_dir)" >&2; exit 2; }

export GNUPGHOME="$scratch/gnupg"
rm -rf "$GNUPGHOME"
mkdir -m 700 "$GNUPGHOME"
out="$OUT/pgp.jsonl"
labels="$OUT/pgp.labels"
raw="$OUT/pgp.raw.jsonl"
: >"$out"
: >"$labels"
: >"$raw"

g() { gpg --batch --yes --quiet --no-tty --pinentry-mode loopback --passphrase "" "$@" >/dev/null 2>&1; }
b64() { base64 -w0 <"$1"; }
fpr_of() { gpg --with-colons --list-keys "$1" 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}'; }

emit() { # label json
    printf '%s\n' "$2" >>"$out"
    printf '%s\n' "$1" >>"$labels"
}

rekord() { # label key-file signature-file artifact-file
    emit "rekord: $1" "$(printf '{"apiVersion":"0.0.1","kind":"rekord","spec":{"signature":{"format":"pgp","content":"%s","publicKey":{"content":"%s"}},"data":{"content":"%s"}}}' \
        "$(b64 "$3")" "$(b64 "$2")" "$(b64 "$4")")"
    printf '{"body":"%s"}\n' "$(printf '{"apiVersion":"0.0.1","kind":"rekord","spec":{"data":{"hash":{"algorithm":"sha256","value":"%s"}},"signature":{"content":"%s","format":"pgp","publicKey":{"content":"%s"}}}}' \
        "$(sha256sum "$4" | cut -d' ' -f1)" "$(b64 "$3")" "$(b64 "$2")" | base64 -w0)" >>"$raw"
}

helm() { # label key-file provenance-file
    emit "helm: $1" "$(printf '{"apiVersion":"0.0.1","kind":"helm","spec":{"chart":{"provenance":{"content":"%s"}},"publicKey":{"content":"%s"}}}' \
        "$(b64 "$3")" "$(b64 "$2")")"
}

rpm() { # label key-file rpm-file
    emit "rpm: $1" "$(printf '{"apiVersion":"0.0.1","kind":"rpm","spec":{"package":{"content":"%s"},"publicKey":{"content":"%s"}}}' \
        "$(b64 "$3")" "$(b64 "$2")")"
}

artifact="$scratch/artifact.txt"
printf 'rekor-backfill pgp test artifact %s\n' "$(date +%s%N)" >"$artifact"

# A key: generate, then emit rekord entries with an armored and a binary
# export, and armored and binary detached signatures.
# new_key NAME UID ALGO [gpg options for generation...]
new_key() {
    local name=$1 uid=$2 algo=$3
    shift 3
    g "$@" --quick-gen-key "$uid" "$algo" sign 0
    fpr_of "$uid"
}

sign() { # name fpr [extra gpg options...]  -> $scratch/NAME.asc.sig and .sig
    local name=$1 fpr=$2
    shift 2
    g "$@" -u "$fpr" --armor --output "$scratch/$name.asc.sig" --detach-sign "$artifact"
    g "$@" -u "$fpr" --output "$scratch/$name.sig" --detach-sign "$artifact"
}

export_key() { # name fpr... -> $scratch/NAME.asc and NAME.gpg
    local name=$1
    shift
    g --armor --output "$scratch/$name.asc" --export "$@"
    g --output "$scratch/$name.gpg" --export "$@"
}

all_forms() { # name fpr  (key already exported, signatures made)
    local name=$1
    rekord "$name, armored key, armored signature" "$scratch/$name.asc" "$scratch/$name.asc.sig" "$artifact"
    rekord "$name, binary key, binary signature" "$scratch/$name.gpg" "$scratch/$name.sig" "$artifact"
}

provenance() { # name fpr -> $scratch/NAME.prov, a helm provenance file
    local name=$1 fpr=$2 chart="$scratch/$1-0.1.0.tgz"
    head -c 2048 /dev/urandom >"$chart"
    printf 'apiVersion: v2\ndescription: generated chart\nname: %s\nversion: 0.1.0\n\n...\nfiles:\n  %s-0.1.0.tgz: sha256:%s\n' \
        "$name" "$name" "$(sha256sum "$chart" | cut -d' ' -f1)" >"$scratch/$name.plain"
    g -u "$fpr" --digest-algo SHA512 --output "$scratch/$name.prov" --clearsign "$scratch/$name.plain"
}

# --- one user ID, one algorithm each --------------------------------------
declare -A fprs
for spec in \
    "rsa2048:rsa2048:RSA 2048 <rsa2048@example.com>" \
    "rsa3072:rsa3072:RSA 3072 <rsa3072@example.com>" \
    "rsa1024:rsa1024:Old RSA <rsa1024@example.com>" \
    "ed25519:ed25519:Ed Key <ed25519@example.com>" \
    "p256:nistp256:NIST P-256 <p256@example.com>" \
    "p384:nistp384:NIST P-384 <p384@example.com>" \
    "p521:nistp521:NIST P-521 <p521@example.com>" \
    "bp256:brainpoolP256r1:Brainpool 256 <bp256@example.com>" \
    "bp384:brainpoolP384r1:Brainpool 384 <bp384@example.com>" \
    "k1:secp256k1:Koblitz <k1@example.com>" \
    "dsa:dsa2048:DSA Key <dsa@example.com>"; do
    IFS=: read -r name algo uid <<<"$spec"
    fpr=$(new_key "$name" "$uid" "$algo")
    case $algo in
        rsa*) g --quick-add-key "$fpr" "$algo" encr 0 ;;
        ed25519) g --quick-add-key "$fpr" cv25519 encr 0 ;;
        nistp* | brainpool* | secp256k1) g --quick-add-key "$fpr" "$algo" encr 0 ;;
        dsa*) g --quick-add-key "$fpr" elg2048 encr 0 ;;
    esac
    export_key "$name" "$fpr"
    sign "$name" "$fpr"
    all_forms "$name"
    fprs[$name]=$fpr
done

# SHA-1 self-signatures and a SHA-1 data signature; SHA-512 everywhere.
fpr=$(new_key sha1 "SHA-1 Certs <sha1@example.com>" rsa2048 --cert-digest-algo SHA1)
export_key sha1 "$fpr"
sign sha1 "$fpr" --digest-algo SHA256
all_forms sha1
sign sha1data "$fpr" --digest-algo SHA1
rekord "sha1, SHA-1 data signature" "$scratch/sha1.asc" "$scratch/sha1data.asc.sig" "$artifact"
fpr=$(new_key sha512 "SHA-512 <sha512@example.com>" rsa2048 --cert-digest-algo SHA512)
export_key sha512 "$fpr"
sign sha512 "$fpr" --digest-algo SHA512
all_forms sha512

# --- several user IDs (Go serialises them in random order) ----------------
fpr=$(new_key multi "Multi Three <multi@example.com>" rsa3072)
g --quick-add-uid "$fpr" "No Email (comment only)"
g --quick-add-uid "$fpr" "Mixed Case <Mixed.Case@Example.COM>"
g --quick-add-uid "$fpr" "Revoked Later <revoked@example.com>"
g --quick-revoke-uid "$fpr" "Revoked Later <revoked@example.com>"
g --quick-add-key "$fpr" rsa2048 encr 0
export_key multi "$fpr"
sign multi "$fpr"
all_forms multi
fprs[multi]=$fpr

fpr=$(new_key edmulti "Ed Multi <edmulti@example.com>" ed25519)
g --quick-add-uid "$fpr" "bare.address@example.net"
export_key edmulti "$fpr"
sign edmulti "$fpr"
all_forms edmulti

# --- subkeys: signing subkey (cross-signature), revoked subkey ------------
fpr=$(new_key subkeys "Sub Keys <subkeys@example.com>" ed25519)
g --quick-add-key "$fpr" cv25519 encr 0
g --quick-add-key "$fpr" ed25519 sign 0
g --quick-add-key "$fpr" ed25519 sign 0
# Revoke the last subkey (number 3), then sign with the primary key.
printf 'key 3\nrevkey\ny\n0\n\ny\nsave\n' |
    gpg --batch --yes --quiet --no-tty --pinentry-mode loopback --passphrase '' \
        --command-fd 0 --status-fd 2 --edit-key "$fpr" 2>/dev/null || true
export_key subkeys "$fpr"
sign subkeys "$fpr!"
all_forms subkeys
# Signed by the (valid) signing subkey.
subfpr=$(gpg --with-colons --list-keys "$fpr" | awk -F: '/^sub/ {n++} /^fpr/ && n==2 {print $10; exit}')
sign subkeysig "$subfpr!"
rekord "subkeys, signature by the signing subkey" "$scratch/subkeys.asc" "$scratch/subkeysig.asc.sig" "$artifact"

# --- expired key (made and used in the past) ------------------------------
past=(--faked-system-time 20200101T000000)
g "${past[@]}" --quick-gen-key "Expired <expired@example.com>" rsa2048 sign 1d
fpr=$(fpr_of "Expired <expired@example.com>")
export_key expired "$fpr"
sign expired "$fpr" "${past[@]}"
all_forms expired

# --- revoked primary key (signed before the revocation) -------------------
fpr=$(new_key revoked "Revoked Key <revokedkey@example.com>" ed25519)
sign revoked "$fpr"
sed 's/^://' "$GNUPGHOME/openpgp-revocs.d/$fpr.rev" >"$scratch/revoked.rev"
g --import "$scratch/revoked.rev"
export_key revoked "$fpr"
all_forms revoked

# --- third-party certification --------------------------------------------
fpr=$(new_key certified "Certified <certified@example.com>" rsa2048)
g -u "${fprs[multi]}" --quick-sign-key "$fpr"
export_key certified "$fpr"
sign certified "$fpr"
all_forms certified

# --- key rings: two entities in one block, two blocks, a private key ------
export_key ring "${fprs[rsa2048]}" "${fprs[ed25519]}"
rekord "two entities in one block, signed by the first" "$scratch/ring.asc" "$scratch/rsa2048.asc.sig" "$artifact"
rekord "two entities in one binary ring, signed by the second" "$scratch/ring.gpg" "$scratch/ed25519.sig" "$artifact"
cat "$scratch/p256.asc" "$scratch/bp256.asc" >"$scratch/twoblocks.asc"
rekord "two armor blocks, signed by the second" "$scratch/twoblocks.asc" "$scratch/bp256.asc.sig" "$artifact"
g --armor --output "$scratch/private.asc" --export-secret-keys "${fprs[ed25519]}"
rekord "armored private key" "$scratch/private.asc" "$scratch/ed25519.asc.sig" "$artifact"
{ printf 'Some text before the key\n'; cat "$scratch/rsa3072.asc"; printf '\ntrailing text\n'; } >"$scratch/noisy.asc"
rekord "armored key with text around it" "$scratch/noisy.asc" "$scratch/rsa3072.asc.sig" "$artifact"

# --- helm: generated provenance files --------------------------------------
for name in rsa2048 ed25519 p384 dsa multi; do
    provenance "$name" "${fprs[$name]}"
    helm "$name key" "$scratch/$name.asc" "$scratch/$name.prov"
done

# --- keys only go-crypto makes (v6, native Ed25519/Ed448, SHA3) -----------
(cd "$here/pgpgen" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly go run .) \
    >"$scratch/pgpgen.jsonl" 2>"$scratch/pgpgen.labels"
while IFS= read -r line <&3 && IFS= read -r label <&4; do
    emit "rekord: go-crypto $label" "$line"
done 3<"$scratch/pgpgen.jsonl" 4<"$scratch/pgpgen.labels"

# --- Rekor's own fixtures --------------------------------------------------
fixtures="$rekor_dir/pkg/pki/pgp/testdata"
for key in valid_armored_public valid_binary_public valid_armored_complex_public \
    valid_binary_complex_public armored_private binary_private; do
    for sig in hello_world.txt.asc.sig hello_world.txt.sig; do
        rekord "fixture $key, $sig" "$fixtures/$key.pgp" "$fixtures/$sig" "$fixtures/hello_world.txt"
    done
done
helm "fixture test-0.1.0" "$rekor_dir/pkg/types/helm/tests/test_helm_armor.pub" \
    "$rekor_dir/pkg/types/helm/tests/test-0.1.0.tgz.prov"
rpm "fixture test.rpm" "$rekor_dir/pkg/types/rpm/tests/test_rpm_public_key.key" \
    "$rekor_dir/pkg/types/rpm/tests/test.rpm"

if [ "${PGP_MUTATIONS:-0}" -gt 0 ]; then
    python3 "$here/pgp_mutations.py" "$scratch" "$OUT/pgp.mutations.jsonl" \
        "${PGP_MUTATIONS_SEED:-1}" "$PGP_MUTATIONS"
fi

echo "pgp.sh: $(wc -l <"$out") proposed entries in $out" >&2
