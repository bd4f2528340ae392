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
# 3. The same per kind (groups of the input, KEYS_BENCH_KIND_LINES lines
#    each, default 10000, KEYS_BENCH_KIND_RUNS runs, default 1): µs of CPU
#    per entry for both (CPU time is counted in 10 ms ticks: 1 µs here).
# 4. The criterion benchmark (benches/keys.rs) over the corpus and the
#    generated set, in-process, for the Rust side alone.
# `uptime` is printed first and last: on a busy machine CPU time is the
# fairer measure, but caches and frequency still suffer.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

lines_wanted="${KEYS_BENCH_LINES:-20000}"
runs="${KEYS_BENCH_RUNS:-3}"
corpus="$repo/testdata/corpus/entries.jsonl"
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

# cpu_seconds INPUT RUNS CMD...: the best (lowest) user+system CPU seconds
# of RUNS runs of CMD < INPUT; CMD must print one line per input line.
cpu_seconds() {
    local input=$1 runs=$2 best="" t lines
    shift 2
    lines="$(wc -l < "$input")"
    for _ in $(seq "$runs"); do
        GOMAXPROCS=1 taskset -c 0 /usr/bin/time -f '%U %S' -o "$work/time" \
            "$@" < "$input" > "$work/out" 2> "$work/stderr"
        [ "$(wc -l < "$work/out")" -eq "$lines" ] || {
            echo "bench-keys: $1 printed $(wc -l < "$work/out") lines for $lines" >&2
            exit 1
        }
        t="$(awk '{ printf "%.3f", $1 + $2 }' "$work/time")"
        if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best="$t"
        fi
    done
    echo "$best"
}

rust_s="$(cpu_seconds "$input" "$runs" "$bin" keys)"
cp "$work/out" "$work/rust.out"
go_s="$(cpu_seconds "$input" "$runs" "$oracle")"
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

# Per kind (rekord split by signature format): each group's distinct
# entries repeated to at least KEYS_BENCH_KIND_LINES lines.
echo "== per kind, CPU 0 only, µs of CPU per entry"
groups="$work/groups"
rm -rf "$groups"
mkdir -p "$groups"
python3 - "$groups" "${KEYS_BENCH_KIND_LINES:-10000}" "${sets[@]}" <<'PY'
import base64, collections, json, os, re, sys
out, wanted, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
groups = collections.defaultdict(list)
for p in paths:
    for l in open(p):
        if not l.strip():
            continue
        d = json.loads(l)
        try:
            body = json.loads(base64.b64decode(d["body"]))
            kind = str(body.get("kind", "?"))
            if kind == "rekord":
                fmt = body.get("spec", {}).get("signature", {}).get("format", "?")
                kind = f"rekord-{fmt}"
        except Exception:
            kind = "undecodable"
        groups[re.sub(r"[^A-Za-z0-9_-]", "_", kind)].append(json.dumps({"body": d["body"]}))
for kind, lines in sorted(groups.items()):
    reps = -(-wanted // len(lines))
    with open(os.path.join(out, f"{kind}.jsonl"), "w") as f:
        for _ in range(reps):
            f.write("\n".join(lines) + "\n")
    with open(os.path.join(out, f"{kind}.distinct"), "w") as f:
        f.write(str(len(lines)))
PY
printf '%-16s %8s %8s %10s %10s %8s\n' kind entries lines "Rust µs" "Go µs" ratio
kind_runs="${KEYS_BENCH_KIND_RUNS:-1}"
for f in "$groups"/*.jsonl; do
    kind="$(basename "$f" .jsonl)"
    r="$(cpu_seconds "$f" "$kind_runs" "$bin" keys)"
    g="$(cpu_seconds "$f" "$kind_runs" "$oracle")"
    awk -v k="$kind" -v d="$(cat "$groups/$kind.distinct")" -v n="$(wc -l < "$f")" -v r="$r" -v g="$g" 'BEGIN {
        printf "%-16s %8d %8d %10.1f %10.1f %7.1fx\n", k, d, n, r * 1e6 / n, g * 1e6 / n, (r > 0 ? g / r : 0)
    }'
done

echo "== criterion (benches/keys.rs), one thread, CPU 0"
cargo bench --quiet --bench keys --no-run 2>/dev/null
bench_env=()
[ -f "$gen" ] && bench_env=(KEYS_BENCH_INPUT="$gen")
env "${bench_env[@]}" taskset -c 0 cargo bench --quiet --bench keys 2>&1 \
    | grep -E '^(decode|corpus|input)|time:|thrpt:|entries' || true
echo "== uptime (end): $(uptime)"
