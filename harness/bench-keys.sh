#!/usr/bin/env bash
# Key computation speed: rekor-backfill against Rekor v1.5.4's Go code, per
# core, over the same entries (README.md, "Key computation speed").
#
#   harness/bench-keys.sh            (make bench-keys)
#
# 1. Input: the corpus and the generated set (.harness/gen/generated.jsonl,
#    made with harness/gen/run.sh when missing; KEYS_BENCH_GEN=path to use
#    another), repeated to at least KEYS_BENCH_LINES lines (default 20000).
# 2. `rekor-backfill keys` and `key-oracle` each read it KEYS_BENCH_RUNS
#    times (default 3), pinned to CPU 0 (taskset; GOMAXPROCS=1 for Go),
#    timed by /usr/bin/time; the best run's user+system CPU seconds give
#    entries per second per core. Both do the same work per line: JSON line,
#    base64 body, decode, keys, one JSON line out.
# 3. The criterion benchmark (benches/keys.rs) over the corpus and the
#    generated set, in-process, for the Rust side alone.
# `uptime` is printed first and last: on a busy machine CPU time is the
# fairer measure, but caches and frequency still suffer.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

lines_wanted="${KEYS_BENCH_LINES:-20000}"
runs="${KEYS_BENCH_RUNS:-3}"
corpus="$repo/../shared/corpus/entries.jsonl"
gen="${KEYS_BENCH_GEN:-$repo/.harness/gen/generated.jsonl}"
work="$repo/.harness/bench-keys"
mkdir -p "$work"

for t in taskset /usr/bin/time python3; do
    command -v "$t" >/dev/null || { echo "bench-keys: missing tool: $t" >&2; exit 1; }
done
[ -f "$corpus" ] || { echo "bench-keys: no corpus at $corpus" >&2; exit 1; }
if [ ! -f "$gen" ] && [ -z "${KEYS_BENCH_GEN:-}" ]; then
    echo "bench-keys: making the generated set (harness/gen/run.sh)" >&2
    bash harness/gen/run.sh "$repo/.harness/gen" >&2 || true
fi
sets=("$corpus")
if [ -f "$gen" ]; then
    sets+=("$gen")
else
    echo "bench-keys: WARNING: no generated set at $gen, corpus only" >&2
fi

echo "== uptime (start): $(uptime)"
oracle="$(bash harness/key-oracle/build.sh)"
cargo build --release --quiet
bin="$repo/target/release/rekor-backfill"

# The input: {"body":…} lines of every set, repeated.
input="$work/input.jsonl"
python3 - "$input" "$lines_wanted" "${sets[@]}" <<'PY'
import json, sys
out, wanted, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
lines = []
for p in paths:
    with open(p) as f:
        lines += [json.dumps({"body": json.loads(l)["body"]}) for l in f if l.strip()]
reps = -(-wanted // len(lines))
with open(out, "w") as f:
    for _ in range(reps):
        f.write("\n".join(lines) + "\n")
print(f"input: {len(lines)} distinct entries x {reps} = {len(lines) * reps} lines", file=sys.stderr)
PY
n="$(wc -l < "$input")"

# Best (lowest) user+system CPU seconds of $runs runs of "$@" < input.
cpu_seconds() {
    local best="" t
    for _ in $(seq "$runs"); do
        GOMAXPROCS=1 taskset -c 0 /usr/bin/time -f '%U %S' -o "$work/time" \
            "$@" < "$input" > "$work/out" 2> "$work/stderr"
        [ "$(wc -l < "$work/out")" -eq "$n" ] || {
            echo "bench-keys: $1 printed $(wc -l < "$work/out") lines for $n" >&2
            exit 1
        }
        t="$(awk '{ printf "%.3f", $1 + $2 }' "$work/time")"
        if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best="$t"
        fi
    done
    echo "$best"
}

rust_s="$(cpu_seconds "$bin" keys)"
cp "$work/out" "$work/rust.out"
go_s="$(cpu_seconds "$oracle")"
cp "$work/out" "$work/go.out"
# Same entries keyed (errors aside, parity is harness/parity.sh's job).
rust_ok="$(grep -c '^{"keys"' "$work/rust.out" || true)"
go_ok="$(grep -c '^{"keys"' "$work/go.out" || true)"

echo "== CPU 0 only, best of $runs runs, $n entries ($rust_ok keyed by rekor-backfill, $go_ok by Go)"
awk -v n="$n" -v r="$rust_s" -v g="$go_s" 'BEGIN {
    printf "rekor-backfill keys : %7.2f CPU s  %9.0f entries/s per core\n", r, n / r
    printf "Go (Rekor v1.5.4)   : %7.2f CPU s  %9.0f entries/s per core\n", g, n / g
    printf "ratio               : %7.2fx\n", g / r
}'

echo "== criterion (benches/keys.rs), one thread, CPU 0"
cargo bench --quiet --bench keys --no-run 2>/dev/null
bench_env=()
[ -f "$gen" ] && bench_env=(KEYS_BENCH_INPUT="$gen")
env "${bench_env[@]}" taskset -c 0 cargo bench --quiet --bench keys 2>&1 \
    | grep -E '^(decode|corpus|input)|time:|thrpt:|entries' || true
echo "== uptime (end): $(uptime)"
