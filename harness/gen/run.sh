#!/usr/bin/env bash
# The generated entry set for key parity: stored bodies of every kind, made
# from real tool output, in the corpus format.
#
#   harness/gen/run.sh OUT_DIR
#
# 1. ../openssl-keys.sh makes shared x509 keys and certificates (openssl).
# 2. Every harness/gen/kinds/*.sh runs in its own scratch directory and
#    writes OUT_DIR/<name>.jsonl: proposed entries, the JSON rekor-cli would
#    POST (plus a label), and, for cases the server's canonicalization cannot
#    produce (expired TUF roots, bad signatures, malformed bodies),
#    OUT_DIR/<name>.stored.jsonl with hand-made stored bodies. Line formats:
#    genlib.py. A kind script gets its output path as $1 and GEN_WORK,
#    GEN_KEYS, REKOR_MOD, ARTIFACTS, PYTHONPATH in the environment.
# 3. assemble.py sends all proposed entries through
#    `key-oracle -canonicalize` (Rekor v1.5.4's own createLogEntry path) and
#    writes OUT_DIR/generated.jsonl: {"uuid","logIndex","integratedTime",
#    "logID","body","kind","apiVersion","source"} per entry, source =
#    "gen/<name>/<label>". A proposed entry the server refuses is an error
#    unless marked expect_reject.
#
# Keys are made fresh each run, so bodies differ between runs; the cases,
# and how both tools classify them, do not. Needs: go, openssl, python3,
# minisign, ssh-keygen; keytool/jarsigner optional. About 20 s.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:?usage: harness/gen/run.sh OUT_DIR}"

die() { echo "gen: $*" >&2; exit 1; }
for t in go openssl python3; do
    command -v "$t" >/dev/null || die "missing tool: $t"
done

rm -rf "$out"
mkdir -p "$out/work"
out="$(cd "$out" && pwd)"
oracle="${ORACLE:-$("$repo/harness/key-oracle/build.sh")}" || die "building the key oracle failed"

# Rekor's fixtures, from the module the oracle is built against.
REKOR_MOD="$(cd "$repo/harness/key-oracle" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly \
    go list -m -f '{{.Dir}}' github.com/sigstore/rekor)"
[ -d "$REKOR_MOD/pkg/types" ] || die "rekor module not found: $REKOR_MOD"

export GEN_WORK="$out/work" GEN_KEYS="$out/work/keys" REKOR_MOD
export ARTIFACTS="$repo/harness/stack/artifacts.py" PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"

bash "$here/../openssl-keys.sh" "$GEN_KEYS" || die "openssl-keys.sh failed"
for script in "$here"/kinds/*.sh; do
    name="$(basename "$script" .sh)"
    mkdir -p "$GEN_WORK/$name"
    (cd "$GEN_WORK/$name" && bash "$script" "$out/$name.jsonl") \
        || die "kinds/$name.sh failed"
done
python3 "$here/assemble.py" --oracle "$oracle" --dir "$out"
