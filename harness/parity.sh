#!/usr/bin/env bash
# Key parity: runs `rekor-backfill keys` and the Go key oracle (Rekor v1.5.4's
# own code) over the same entries and prints, per kind/apiVersion, how many
# entries agree. Exits 1 when a difference is not explained by a rule in
# harness/key-oracle/parity-rules.json (the deliberate differences of
# docs/INDEX_KEYS.md §10), 2 when the run itself is impossible.
#
# usage: harness/parity.sh [RUST_BIN] [INPUT_JSONL]
#   RUST_BIN     default: $REPO/target/release/rekor-backfill
#   INPUT_JSONL  default: $REPO/testdata/corpus/entries.jsonl
#                one entry per line: {"body": base64, ...} or bare base64
# environment:
#   RUST_KEYS_ARGS  arguments for the Rust binary (default: "keys"; set but
#                   empty means none). With them it must read INPUT on stdin
#                   and print one line per input line: {"keys":[...]} or
#                   {"error":"..."}
#   ORACLE          key-oracle binary (default: built by key-oracle/build.sh)
#   PARITY_RULES    rules file (default: harness/key-oracle/parity-rules.json)
#   PARITY_OUT      directory for the raw outputs (default: a fresh temp dir,
#                   kept and printed so differences can be inspected)
#   PARITY_FLAGS    extra flags for parity_compare.py, e.g. --show-explained
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

rust="${1:-$repo/target/release/rekor-backfill}"
input="${2:-$repo/testdata/corpus/entries.jsonl}"
rules="${PARITY_RULES:-$here/key-oracle/parity-rules.json}"
rust_args="${RUST_KEYS_ARGS-keys}"

die() { echo "parity: $*" >&2; exit 2; }

[ -x "$rust" ] || die "Rust binary not found or not executable: $rust
  build it with: cargo build --release   (or pass its path as the first argument)"
[ -r "$input" ] || die "input not readable: $input"
command -v python3 >/dev/null || die "python3 is required"

if [ -n "${ORACLE:-}" ]; then
    oracle="$ORACLE"
else
    oracle="$("$here/key-oracle/build.sh")" || die "building the Go key oracle failed"
fi
[ -x "$oracle" ] || die "key oracle not executable: $oracle"

out="${PARITY_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/parity.XXXXXX")}"
mkdir -p "$out"

# Both tools log to stderr; keep it out of the table but on disk.
# shellcheck disable=SC2086 # RUST_KEYS_ARGS is a word list on purpose
"$rust" $rust_args <"$input" >"$out/rust.jsonl" 2>"$out/rust.stderr" \
    || die "$rust $rust_args failed (exit $?); see $out/rust.stderr"
"$oracle" <"$input" >"$out/go.jsonl" 2>"$out/go.stderr" \
    || die "key oracle failed (exit $?); see $out/go.stderr"

echo "input: $input"
echo "outputs: $out"
echo
status=0
# shellcheck disable=SC2086 # PARITY_FLAGS is a word list on purpose
python3 "$here/key-oracle/parity_compare.py" \
    --input "$input" --go "$out/go.jsonl" --rust "$out/rust.jsonl" \
    --rules "$rules" --report "$out/differences.jsonl" ${PARITY_FLAGS:-} || status=$?
exit "$status"
