#!/usr/bin/env bash
# Benchmarks rekor-backfill against Rekor's Go backfill-index v1.5.4 on one
# machine: same replay server, same private Redis and MariaDB (flushed before
# every run), runs alternating. Measures the replay server's and the
# backends' own ceilings, scale (time and peak RSS against range size) and
# the cost of checkpointing, and compares the tools once more against a real
# rekor-server v1.5.4 + Trillian (harness/stack) holding uploaded entries
# (Go and rekor-backfill through the API, and rekor-backfill reading the
# stack's Trillian database); then writes BENCHMARKS.md and a PNG chart.
#
# usage: harness/bench/bench.sh        (or: make bench; BENCH_MODE=quick make bench)
#
# Environment (defaults: full mode / quick mode):
#   BENCH_MODE            full | quick. Quick is for checking the script: small
#                         sizes, short wrk runs, report under BENCH_OUT only.
#   BENCH_SIZE            indices per comparison, ceiling and checkpoint run
#                         (100000 / 10000)
#   BENCH_CONCURRENCY     "1 5 20"
#   BENCH_BACKENDS        "redis mysql"
#   BENCH_GO_MODES        "go go-ka" (go-ka: --rekor-disable-keepalives=false)
#   BENCH_REPEAT          runs per comparison configuration; the median is
#                         reported (1)
#   BENCH_PHASES          "ceiling compare stack scale mix checkpoint profile"
#   BENCH_PROFILE_SIZE    20000; BENCH_PROFILE_CONCURRENCY 5
#   BENCH_SCALE           "100000 1000000 10000000" / "10000 100000"
#   BENCH_SCALE_BACKENDS  "dry redis mysql" (dry = --dry-run)
#   BENCH_SCALE_CONCURRENCY  5
#   BENCH_SCALE_BUDGET    seconds one scale run may take (estimated from the
#                         smaller sizes first); larger runs are skipped and
#                         listed (1200)
#   BENCH_MIX             indices per run of the key-mix scale phase ("mix"):
#                         "100000 1000000" / "10000 100000" (10^7 too when asked:
#                         BENCH_MIX="100000 1000000 10000000"; it takes an hour)
#   BENCH_MIX_BACKENDS    "redis redis-hot mysql" (redis-hot: Redis whose two hottest
#                         keys already list BENCH_MIX_HOT UUIDs each, like the
#                         server's own index of a big log; run at the smallest size)
#   BENCH_MIX_HOT         1000000 / 100000
#   BENCH_MIX_GO          sizes for Go on Redis on the same mix ("100000 200000" /
#                         "10000 20000"): two points measure how its time grows;
#                         BENCH_MIX_GO="" runs no Go
#   BENCH_MIX_CONCURRENCY 5; REPLAY_MIX_PORT 26381 (the mix's replay server)
#   BENCH_CHECKPOINT      "0 1 100 10000"; BENCH_CHECKPOINT_CONCURRENCY 5;
#                         BENCH_CHECKPOINT_REPEAT 5 (rounds, intervals interleaved;
#                         the median is reported: the differences are small)
#   BENCH_STACK_SIZE      entries uploaded to the real stack and backfilled
#                         per run (20000 / 300)
#   BENCH_STACK_CONCURRENCY  "2 5 10 20" / "5": every tool at each, to find
#                         each one's fastest (c=5 is the reference column)
#   BENCH_STACK_REPEAT    rounds (BENCH_REPEAT)
#   BENCH_STACK_TOOLS     "go rust rust-trillian": Go through the API,
#                         rekor-backfill through the API, and rekor-backfill
#                         reading the stack's Trillian MariaDB
#                         (--trillian-mysql-dsn; trees and sizes from the
#                         stack's /api/v1/log); add go-ka for Go with keep-alives
#   BENCH_STACK_TRILLIAN_REPEAT  runs of rust-trillian per round and
#                         configuration (3: they last seconds; median reported)
#   BENCH_STACK_UPLOADERS parallel uploads while populating the stack (64)
#   BENCH_STACK_PORT_BASE the stack's ports: rekor-server BASE, its Redis
#                         BASE+1, MariaDB BASE+2, Trillian BASE+3..BASE+6
#                         (26400: apart from harness/stack's own defaults, so
#                         a stack someone else runs does not clash, and below
#                         Linux's ephemeral range 32768-60999, so outgoing
#                         connections cannot be holding them)
#   BENCH_WRK_SECONDS     10 / 3; BENCH_WRK_CONNECTIONS "1 5 20"
#   BENCH_CEILING_STREAMS "1 4" (parallel client streams for the backend ceilings)
#   BENCH_OUT             raw results (.harness/bench/MODE-DATE)
#   BENCH_REPORT          the report (full: BENCHMARKS.md; quick: $BENCH_OUT/BENCHMARKS.md);
#                         a full run with BENCH_REPORT set leaves the tracked chart
#                         and harness/bench/results/full.jsonl alone
#   BENCH_NO_BUILD=1      use the binaries as they are
#   BENCH_REPORT_FROM=DIR only write the report again from a finished run's
#                         BENCH_OUT (same BENCH_MODE), e.g. after editing the notes
#   REDIS_PORT, MYSQL_PORT, REPLAY_PORT  private ports (26379, 26306, 26380: below the
#                         ephemeral port range, like the stack's 26400+)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"

mode=${BENCH_MODE:-full}
case $mode in
full) d_size=100000 d_scale="100000 1000000 10000000" d_wrk=10 d_stack=20000
    d_stack_conc="2 5 10 20"
    d_mix="100000 1000000" d_mix_hot=1000000 d_mix_go="100000 200000" ;;
quick) d_size=10000 d_scale="10000 100000" d_wrk=3 d_stack=300 d_stack_conc=5
    d_mix="10000 100000" d_mix_hot=100000 d_mix_go="10000 20000" ;;
*) echo "bench.sh: BENCH_MODE must be full or quick" >&2; exit 2 ;;
esac
size=${BENCH_SIZE:-$d_size}
concurrency=${BENCH_CONCURRENCY:-1 5 20}
backends=${BENCH_BACKENDS:-redis mysql}
go_modes=${BENCH_GO_MODES:-go go-ka}
repeat=${BENCH_REPEAT:-1}
phases=${BENCH_PHASES:-ceiling compare stack scale mix checkpoint profile}
scale_sizes=${BENCH_SCALE:-$d_scale}
scale_backends=${BENCH_SCALE_BACKENDS:-dry redis mysql}
scale_conc=${BENCH_SCALE_CONCURRENCY:-5}
scale_budget=${BENCH_SCALE_BUDGET:-1200}
mix_sizes=${BENCH_MIX:-$d_mix}
mix_backends=${BENCH_MIX_BACKENDS:-redis redis-hot mysql}
mix_hot=${BENCH_MIX_HOT:-$d_mix_hot}
mix_go=${BENCH_MIX_GO-$d_mix_go}
mix_conc=${BENCH_MIX_CONCURRENCY:-5}
mix_port=${REPLAY_MIX_PORT:-26381}
ckpt_intervals=${BENCH_CHECKPOINT:-0 1 100 10000}
ckpt_conc=${BENCH_CHECKPOINT_CONCURRENCY:-5}
ckpt_repeat=${BENCH_CHECKPOINT_REPEAT:-5}
wrk_seconds=${BENCH_WRK_SECONDS:-$d_wrk}
wrk_conns=${BENCH_WRK_CONNECTIONS:-1 5 20}
ceiling_streams=${BENCH_CEILING_STREAMS:-1 4}
stack_size=${BENCH_STACK_SIZE:-$d_stack}
stack_conc=${BENCH_STACK_CONCURRENCY:-$d_stack_conc}
stack_repeat=${BENCH_STACK_REPEAT:-$repeat}
stack_tools=${BENCH_STACK_TOOLS:-go rust rust-trillian}
stack_trillian_repeat=${BENCH_STACK_TRILLIAN_REPEAT:-3}
stack_uploaders=${BENCH_STACK_UPLOADERS:-64}
stack_port=${BENCH_STACK_PORT_BASE:-26400}
out=${BENCH_OUT:-$repo/.harness/bench/$mode-$(date +%Y%m%dT%H%M%S)}
if [ "$mode" = full ] && [ -z "${BENCH_REPORT:-}" ]; then
    report=$repo/BENCHMARKS.md
    chart=$repo/harness/bench/results/entries-per-second.png
    results_copy=$repo/harness/bench/results/full.jsonl
elif [ "$mode" = full ]; then
    # A report elsewhere (a partial run): the tracked chart and results
    # stay those of the committed report.
    report=$BENCH_REPORT
    chart=$(dirname "$report")/entries-per-second.png
    results_copy=
else
    report=${BENCH_REPORT:-$out/BENCHMARKS.md}
    chart=$out/entries-per-second.png
    results_copy=
fi
export REDIS_PORT=${REDIS_PORT:-26379} MYSQL_PORT=${MYSQL_PORT:-26306}
replay_port=${REPLAY_PORT:-26380}
corpus=${BENCH_CORPUS:-$repo/testdata/corpus/entries.jsonl}
services_dir=$repo/.harness/bench/services

# The harness's private services use these fixed test credentials.
redis_password=test
mysql_dsn="test:zaphod@tcp(127.0.0.1:$MYSQL_PORT)/test?parseTime=true&interpolateParams=true"

rust_bin=$repo/target/release/rekor-backfill
replay_bin=$repo/target/release/replay-rekor
go_bin=$repo/.harness/bin/backfill-index
benchtool=$here/benchtool.py
results=$out/results.jsonl
commands=$out/commands.txt

log() { echo "bench: $*" >&2; }
die() { log "$*"; exit 1; }

# ---------------------------------------------------------------- tools

ensure_tools() {
    local missing=()
    [ -x /usr/bin/time ] || missing+=(time)
    command -v wrk >/dev/null || missing+=(wrk)
    command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
    command -v redis-cli >/dev/null || missing+=(redis-tools)
    command -v python3 >/dev/null || missing+=(python3)
    command -v strace >/dev/null || missing+=(strace)
    [ ${#missing[@]} = 0 ] && return 0
    if [ "$(id -u)" = 0 ]; then
        log "installing ${missing[*]}"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        die "missing ${missing[*]}: apt-get install -y ${missing[*]}"
    fi
}

build() {
    if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
        log "building release binaries"
        cargo build --release --workspace --quiet
        log "building Go backfill-index (harness/stack/build.sh)"
        harness/stack/build.sh >&2
    fi
    for b in "$rust_bin" "$replay_bin" "$go_bin"; do
        [ -x "$b" ] || die "$b missing (unset BENCH_NO_BUILD)"
    done
}

# ---------------------------------------------------------------- services

replay_pid= mix_pid=
# The real stack's Trillian database and its MariaDB (phase_stack only).
trillian_dsn= source_db_pid=
cleanup() {
    local rc=$?
    stack_down "$rc"
    if [ -n "$mix_pid" ]; then
        kill "$mix_pid" 2>/dev/null || true
        wait "$mix_pid" 2>/dev/null || true
    fi
    if [ -n "$replay_pid" ]; then
        kill "$replay_pid" 2>/dev/null || true
        wait "$replay_pid" 2>/dev/null || true
    fi
    if [ "${BENCH_KEEP_SERVICES:-0}" != 1 ]; then
        harness/services.sh stop "$services_dir" >/dev/null 2>&1 || true
    fi
}

start_services() {
    harness/services.sh start "$services_dir" >&2
    redis_pid=$(cat "$services_dir/redis.pid")
    mysql_pid=$(cat "$services_dir/mariadb.pid")
    # The replay server serves any index; size it for the largest run.
    local max=$size s
    for s in $scale_sizes; do [ "$s" -gt "$max" ] && max=$s; done
    "$replay_bin" --corpus "$corpus" --size "$max" --listen "127.0.0.1:$replay_port" \
        >"$out/replay.out" 2>"$out/replay.err" &
    replay_pid=$!
    server_pids=$replay_pid
    local waited=0
    until grep -q '^listening on ' "$out/replay.out" 2>/dev/null; do
        kill -0 "$replay_pid" 2>/dev/null || die "replay-rekor exited: $(cat "$out/replay.err")"
        [ $waited -lt 100 ] || die "replay-rekor did not start"
        sleep 0.1
        waited=$((waited + 1))
    done
    url=$(sed -n 's/^listening on //p' "$out/replay.out")
    log "replay server $url (pid $replay_pid, $max entries)"
}

redis_cli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" -a "$redis_password" --no-auth-warning "$@"; }
mysql_cli() { mariadb --no-defaults -h127.0.0.1 -P"$MYSQL_PORT" -utest -pzaphod test "$@"; }

flush() {
    case $1 in
    redis | redis-hot) redis_cli FLUSHALL >/dev/null ;;
    mysql) mysql_cli -e 'DROP TABLE IF EXISTS EntryIndex, BackfillCheckpoint, BackfillFailedEntry, BackfillLease' ;;
    dry) ;;
    esac
    # A hook for the phase (e.g. pre-filling lists), after every flush.
    [ -z "${after_flush:-}" ] || "$after_flush" "$1"
}

# CPU seconds processes have used so far (utime + stime, summed).
clk_tck=$(getconf CLK_TCK)
cpu_of() {
    local p files=()
    for p in "$@"; do [ -r "/proc/$p/stat" ] && files+=("/proc/$p/stat"); done
    if [ ${#files[@]} -gt 0 ]; then
        # comm (field 2) has no spaces for any process measured here.
        awk -v t="$clk_tck" '{s += $14 + $15} END {printf "%.2f", s / t}' "${files[@]}"
    else
        echo 0
    fi
}
backend_pid() {
    case $1 in redis | redis-hot) echo "$redis_pid" ;; mysql) echo "$mysql_pid" ;; *) echo "" ;; esac
}
load1() { cut -d' ' -f1 /proc/loadavg; }
# CPU seconds the whole machine has been busy (every process, all cores:
# user, nice, system, irq, softirq, steal of /proc/stat), so a run's CPU
# can be split into what the measured processes used, other work, and idle.
machine_busy() { awk -v t="$clk_tck" '/^cpu /{printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / t; exit}' /proc/stat; }
elapsed() { python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 3))" "$1" "$2"; }

# Records a command line for the report, secrets as variables.
note_cmd() {
    local line="$*"
    line=${line//--redis-password=$redis_password/--redis-password=\$REDIS_PASSWORD}
    line=${line//$mysql_dsn/\$MYSQL_DSN}
    [ -z "${trillian_dsn:-}" ] || line=${line//$trillian_dsn/\$TRILLIAN_MYSQL_DSN}
    grep -qxF -- "$line" "$commands" 2>/dev/null || echo "$line" >>"$commands"
}

# ---------------------------------------------------------------- one run

# tool_command TOOL BACKEND CONCURRENCY SIZE CHECKPOINT_INTERVAL: sets the
# arrays `args` (the command) and `env` (its secrets) for indices 0..SIZE-1,
# and records the command for the report.
# TOOL: go | go-ka | rust | rust-trillian (BACKEND dry: rekor-backfill
# --dry-run; rust-trillian: --trillian-mysql-dsn $trillian_dsn, the real
# stack's database, with the layout from $url)
tool_command() {
    local tool=$1 backend=$2 conc=$3 n=$4 interval=$5
    args=() env=()
    case $tool in
    go | go-ka)
        args=("$go_bin" "--rekor-address=$url" --start=0 "--end=$((n - 1))" "--concurrency=$conc")
        [ "$tool" = go-ka ] && args+=(--rekor-disable-keepalives=false)
        case $backend in
        redis | redis-hot) args+=(--redis-hostname=127.0.0.1 "--redis-port=$REDIS_PORT" "--redis-password=$redis_password") ;;
        mysql) args+=("--mysql-dsn=$mysql_dsn") ;;
        esac
        ;;
    rust | rust-trillian)
        args=("$rust_bin" --rekor-address "$url" --start 0 --end "$((n - 1))" --concurrency "$conc")
        env=(REDIS_PASSWORD="$redis_password" MYSQL_DSN="$mysql_dsn")
        [ "$tool" = rust ] || env+=(TRILLIAN_MYSQL_DSN="$trillian_dsn")
        case $backend in
        redis | redis-hot) args+=(--redis-hostname 127.0.0.1 --redis-port "$REDIS_PORT") ;;
        mysql) ;; # MYSQL_DSN
        dry) args+=(--dry-run --redis-hostname 127.0.0.1 --redis-port "$REDIS_PORT") ;;
        esac
        if [ "$backend" = dry ]; then
            args+=(--checkpoint-interval 0)
        else
            args+=(--checkpoint-interval "$interval" --checkpoint-key bench)
        fi
        ;;
    esac
    case $tool in
    rust*) note_cmd "$(printf '%s=… ' "${env[@]%%=*}")${args[*]#$repo/}" ;;
    *) note_cmd "${args[*]#$repo/}" ;;
    esac
}

# run_tool PHASE TOOL BACKEND CONCURRENCY SIZE [CHECKPOINT_INTERVAL]: one
# measured run on a flushed backend, appended to the results. The source is
# $url; server CPU is that of $server_pids (the replay server, or the real
# stack's processes), and of $source_db_pid on its own when set (the real
# stack's MariaDB, which rust-trillian reads directly).
run_tool() {
    local phase=$1 tool=$2 backend=$3 conc=$4 n=$5 interval=${6:-1000}
    local args env name="$phase-$tool-$backend-c$conc-n$n-i$interval"
    tool_command "$tool" "$backend" "$conc" "$n" "$interval"
    flush "$backend"
    local bpid load s0 d0 b0 m0 t0 t1 rc=0
    bpid=$(backend_pid "$backend")
    load=$(load1)
    # shellcheck disable=SC2086
    s0=$(cpu_of $server_pids)
    # shellcheck disable=SC2086
    d0=$(cpu_of ${source_db_pid:-})
    b0=$(cpu_of "$bpid")
    m0=$(machine_busy)
    t0=$EPOCHREALTIME
    # Go prints one line per key written to stdout: discarded, like a
    # terminal would not be in a real run either.
    env "${env[@]}" /usr/bin/time -v -o "$out/$name.time" "${args[@]}" \
        >/dev/null 2>"$out/$name.err" || rc=$?
    t1=$EPOCHREALTIME
    local s1 d1 b1 m1 wall
    m1=$(machine_busy)
    # shellcheck disable=SC2086
    s1=$(cpu_of $server_pids)
    # shellcheck disable=SC2086
    d1=$(cpu_of ${source_db_pid:-})
    b1=$(cpu_of "$bpid")
    wall=$(elapsed "$t0" "$t1")
    # Go exits 1 when any entry failed to parse; rekor-backfill exits 3 when
    # any entry could not be keyed. Anything else is a failed run.
    local ok=1
    case $tool:$rc in
    rust*:0 | rust*:3) ;;
    go*:0) ;;
    go*:1) grep -q 'failed to parse' "$out/$name.err" || ok=0 ;;
    *) ok=0 ;;
    esac
    [ $ok = 1 ] || { tail -n 5 "$out/$name.err" >&2; die "$name failed (exit $rc); see $out/$name.err"; }
    python3 "$benchtool" record --time "$out/$name.time" --out "$results" \
        phase="$phase" tool="$tool" backend="$backend" concurrency="$conc" size="$n" \
        checkpoint_interval="$interval" wall_s="$wall" exit="$rc" load="$load" \
        server_cpu_s="$(elapsed "$s0" "$s1")" backend_cpu_s="$(elapsed "$b0" "$b1")" \
        ${source_db_pid:+source_db_cpu_s="$(elapsed "$d0" "$d1")"} nproc="$(nproc)" \
        machine_cpu_s="$(elapsed "$m0" "$m1")" \
        load_end="$(load1)"
    last_wall=$wall
}

# ---------------------------------------------------------------- phases

keys_per_entry() {
    # rekor-backfill's keys per corpus entry (also the ceiling generators'
    # input); Go's from a one-cycle dry run (it prints a line per key).
    "$rust_bin" keys <"$corpus" >"$out/keys-rust.jsonl"
    local n rust_keys go_keys
    n=$(wc -l <"$corpus")
    rust_keys=$(python3 -c "import json,sys; print(sum(len(json.loads(l).get('keys') or []) for l in open(sys.argv[1])))" "$out/keys-rust.jsonl")
    go_keys=$("$go_bin" "--rekor-address=$url" --start=0 "--end=$((n - 1))" --dry-run \
        --redis-hostname=127.0.0.1 "--redis-port=$REDIS_PORT" 2>/dev/null | grep -c '^Uploaded entry ' || true)
    kpe=$(python3 -c "import json,sys; n=int(sys.argv[1]); print(json.dumps({'go': int(sys.argv[2])/n, 'rust': int(sys.argv[3])/n}))" "$n" "$go_keys" "$rust_keys")
    log "keys per entry: $kpe"
    echo "$kpe" >"$out/keys-per-entry.json"
}

phase_ceiling() {
    log "ceiling: replay server (wrk, ${wrk_seconds}s per run)"
    local c ep s0 s1 load
    for c in $wrk_conns; do
        for ep in get retrieve; do
            load=$(load1)
            s0=$(cpu_of "$replay_pid")
            wrk -t "$((c < 2 ? 1 : 2))" -c "$c" -d "${wrk_seconds}s" -s "$here/wrk-$ep.lua" \
                "$url" -- "$size" >"$out/wrk-$ep-c$c.txt" 2>&1
            s1=$(cpu_of "$replay_pid")
            note_cmd "wrk -t $((c < 2 ? 1 : 2)) -c $c -d ${wrk_seconds}s -s harness/bench/wrk-$ep.lua $url -- $size"
            python3 "$benchtool" wrk --output "$out/wrk-$ep-c$c.txt" --endpoint "$ep" \
                --connections "$c" --per-request "$([ $ep = get ] && echo 1 || echo 10)" \
                --duration "$wrk_seconds" --server-cpu-s "$(elapsed "$s0" "$s1")" \
                --load "$load" --out "$results"
        done
    done

    local streams b ext i pids t0 t1 b0 b1 keys
    keys=$(python3 -c "import json,sys; k=[len(json.loads(l).get('keys') or []) for l in open(sys.argv[1])]; n=int(sys.argv[2]); print(sum(k[i % len(k)] for i in range(n)))" "$out/keys-rust.jsonl" "$size")
    for b in $backends; do
        for streams in $ceiling_streams; do
            log "ceiling: $b, $streams stream(s), $size entries ($keys keys)"
            ext=$([ "$b" = redis ] && echo resp || echo sql)
            python3 "$benchtool" "gen-$b" --keys "$out/keys-rust.jsonl" --size "$size" \
                --streams "$streams" --out-prefix "$out/ceiling-$b-s$streams"
            flush "$b"
            if [ "$b" = mysql ]; then
                # The table exactly as the tool creates it: let it create it.
                env MYSQL_DSN="$mysql_dsn" "$rust_bin" --rekor-address "$url" --start 0 --end 0 \
                    --checkpoint-interval 0 >/dev/null 2>&1
                mysql_cli -e 'TRUNCATE TABLE EntryIndex'
            fi
            load=$(load1)
            b0=$(cpu_of "$(backend_pid "$b")")
            t0=$EPOCHREALTIME
            pids=()
            for ((i = 0; i < streams; i++)); do
                [ -s "$out/ceiling-$b-s$streams.$i.$ext" ] || continue
                if [ "$b" = redis ]; then
                    redis_cli --pipe <"$out/ceiling-$b-s$streams.$i.resp" >"$out/ceiling-$b-s$streams.$i.log" 2>&1 &
                else
                    mysql_cli <"$out/ceiling-$b-s$streams.$i.sql" >"$out/ceiling-$b-s$streams.$i.log" 2>&1 &
                fi
                pids+=($!)
            done
            for i in "${pids[@]}"; do wait "$i" || die "ceiling $b stream failed: $(cat "$out"/ceiling-$b-s$streams.*.log)"; done
            t1=$EPOCHREALTIME
            b1=$(cpu_of "$(backend_pid "$b")")
            if [ "$b" = redis ]; then
                note_cmd "redis-cli -p $REDIS_PORT --pipe < ceiling-redis-sN.I.resp   # $streams in parallel; python3 harness/bench/benchtool.py gen-redis --size $size --streams $streams"
                for ((i = 0; i < ${#pids[@]}; i++)); do
                    grep -q 'errors: 0,' "$out/ceiling-$b-s$streams.$i.log" ||
                        die "redis-cli --pipe reported errors: $(cat "$out/ceiling-$b-s$streams.$i.log")"
                done
            else
                note_cmd "mariadb -h127.0.0.1 -P$MYSQL_PORT -utest test < ceiling-mysql-sN.I.sql   # $streams in parallel; python3 harness/bench/benchtool.py gen-mysql --size $size --streams $streams --rows 1000"
            fi
            python3 - "$results" "$b" "$streams" "$size" "$keys" "$(elapsed "$t0" "$t1")" \
                "$(elapsed "$b0" "$b1")" "$load" <<'EOF'
import json, sys
path, b, streams, size, keys, wall, bcpu, load = sys.argv[1:]
how = {
    "redis": f"redis-cli --pipe, LREM+LPUSH per key, {streams} stream(s)",
    "mysql": f"mariadb client, INSERT IGNORE of 1000 rows per statement, {streams} stream(s)",
}[b]
row = {"phase": "ceiling", "target": b, "how": how, "streams": int(streams),
       "size": int(size), "keys": int(keys), "wall_s": float(wall),
       "entries_per_s": round(int(size) / float(wall), 1),
       "backend_cpu_s": float(bcpu), "load": float(load)}
open(path, "a").write(json.dumps(row, sort_keys=True) + "\n")
print(f"  ceiling {b} x{streams}: {row['entries_per_s']} entries/s", file=sys.stderr)
EOF
            rm -f "$out"/ceiling-$b-s$streams.*.resp "$out"/ceiling-$b-s$streams.*.sql
        done
        flush "$b"
    done
}

# alternate PHASE SIZE ROUNDS CONCURRENCIES [TOOLS]: per round, backend and
# concurrency, the Go modes then rekor-backfill (or TOOLS in their order),
# one run_tool each against $url; rust-trillian $stack_trillian_repeat times.
alternate() {
    local phase=$1 n=$2 rounds=$3 concs=$4 tools=${5:-$go_modes rust} r b c t k times
    for ((r = 1; r <= rounds; r++)); do
        for b in $backends; do
            for c in $concs; do
                for t in $tools; do
                    times=1
                    [ "$t" != rust-trillian ] || times=$stack_trillian_repeat
                    for ((k = 1; k <= times; k++)); do
                        log "$phase: $t $b c=$c n=$n (round $r/$rounds$([ "$times" = 1 ] || echo ", run $k/$times"))"
                        run_tool "$phase" "$t" "$b" "$c" "$n"
                    done
                done
            done
        done
    done
}

phase_compare() {
    alternate compare "$size" "$repeat" "$concurrency"
}

phase_scale() {
    local b s prev_s prev_w k est
    for b in $scale_backends; do
        prev_s= prev_w= k=1
        for s in $scale_sizes; do
            if [ -n "$prev_s" ]; then
                # Extrapolate with the growth seen so far (at least linear).
                est=$(python3 -c "import sys; s,ps,pw,k=map(float,sys.argv[1:]); print(int(pw*(s/ps)**k))" "$s" "$prev_s" "$prev_w" "$k")
                if [ "$est" -gt "$scale_budget" ]; then
                    log "scale: skipping $b n=$s (estimated ${est}s > BENCH_SCALE_BUDGET ${scale_budget}s)"
                    echo "{\"phase\":\"scale-skipped\",\"backend\":\"$b\",\"size\":$s,\"estimate_s\":$est,\"budget_s\":$scale_budget}" >>"$results"
                    break
                fi
                log "scale: $b n=$s (estimated ${est}s)"
            else
                log "scale: $b n=$s"
            fi
            run_tool scale rust "$b" "$scale_conc" "$s"
            if [ -n "$prev_s" ]; then
                k=$(python3 -c "import math,sys; w,pw,s,ps=map(float,sys.argv[1:]); print(max(1.0, math.log(w/pw)/math.log(s/ps)))" "$last_wall" "$prev_w" "$s" "$prev_s")
            fi
            prev_s=$s prev_w=$last_wall
        done
        flush "$b"
    done
}

# ---------------------------------------------------------------- key mix

# The two keys the mix lists most (the 25% signer's key hash and e-mail),
# lowercased as written.
mix_hot_keys() {
    "$rust_bin" keys <"$out/mix-sample.jsonl" | python3 -c "
import collections, json, sys
c = collections.Counter(k.lower() for l in sys.stdin for k in set(json.loads(l).get('keys') or []))
print(' '.join(k for k, _ in c.most_common(2)))"
}

# redis-hot: the hot keys already list $mix_hot other UUIDs each, as in
# the server's own index of a big log (RPUSH from a Lua loop: seconds).
prefill_hot() {
    [ "$1" = redis-hot ] || return 0
    local k
    for k in $hot_keys; do
        redis_cli EVAL "for i = 1, tonumber(ARGV[1]) do redis.call('RPUSH', KEYS[1], string.format('%016x%064x', 1193050959916656506, i)) end return 1" \
            1 "$k" "$mix_hot" >/dev/null
    done
    log "mix: $k and the other hot key list $(redis_cli LLEN "$k") UUIDs"
}

# After each flush of a mix run: pre-fill (redis-hot), then arm the slow log.
mix_after_flush() {
    prefill_hot "$1"
    case $1 in redis | redis-hot) slowlog_arm ;; esac
}

# The slow log of the bench's Redis: armed at 10 ms and emptied before a
# run; after it, the commands over 10 ms (all of them are the tool's: the
# bench's own set-up runs before the reset).
slowlog_arm() {
    redis_cli CONFIG SET slowlog-log-slower-than 10000 >/dev/null
    redis_cli CONFIG SET slowlog-max-len 1024 >/dev/null
    redis_cli SLOWLOG RESET >/dev/null
}
slowlog_record() {
    local b=$1 tool=$2 n=$3
    redis_cli --json SLOWLOG GET -1 | python3 -c "
import json, sys
entries = json.load(sys.stdin)
row = {'phase': 'mix-slowlog', 'backend': sys.argv[1], 'tool': sys.argv[2], 'size': int(sys.argv[3]),
       'count': len(entries), 'max_us': max((e[2] for e in entries), default=0),
       'commands': sorted({e[3][0].upper() for e in entries})}
open(sys.argv[4], 'a').write(json.dumps(row, sort_keys=True) + '\\n')
print(f\"  slow log: {row['count']} commands over 10 ms {row['commands']}\", file=sys.stderr)
" "$b" "$tool" "$n" "$results"
}

# The scale phase on the synthetic key mix (harness/replay-rekor --key-mix):
# rekor-backfill on Redis, Redis with hot lists, MySQL, at each size; Go on
# Redis at two sizes, to measure how its time grows.
phase_mix() {
    local max=0 s
    for s in $mix_sizes $mix_go; do [ "$s" -gt "$max" ] && max=$s; done
    "$replay_bin" --corpus "$corpus" --key-mix --size "$max" --listen "127.0.0.1:$mix_port" \
        >"$out/replay-mix.out" 2>"$out/replay-mix.err" &
    mix_pid=$!
    local waited=0
    until grep -q '^listening on ' "$out/replay-mix.out" 2>/dev/null; do
        kill -0 "$mix_pid" 2>/dev/null || die "replay-rekor --key-mix exited: $(cat "$out/replay-mix.err")"
        [ $waited -lt 100 ] || die "replay-rekor --key-mix did not start"
        sleep 0.1
        waited=$((waited + 1))
    done
    local saved_url=$url saved_pids=$server_pids
    url=$(sed -n 's/^listening on //p' "$out/replay-mix.out") server_pids=$mix_pid
    note_cmd "target/release/replay-rekor --corpus testdata/corpus/entries.jsonl --key-mix --size $max"
    curl -s -X POST "$url/api/v1/log/entries/retrieve" -H 'Content-Type: application/json' \
        -d '{"logIndexes":[0,1,2,3,4,5,6,7,8,9]}' | python3 -c "
import json, sys
for e in json.load(sys.stdin):
    for v in e.values(): print(json.dumps({'body': v['body']}))" >"$out/mix-sample.jsonl"
    for s in $(seq 10 10 2000); do
        curl -s "$url/api/v1/log/entries?logIndex=$s" | python3 -c "
import json, sys
for v in json.load(sys.stdin).values(): print(json.dumps({'body': v['body']}))" >>"$out/mix-sample.jsonl"
    done
    hot_keys=$(mix_hot_keys)
    log "mix: replay server $url; hot keys: $hot_keys"
    local b
    after_flush=mix_after_flush
    for b in $mix_backends; do
        for s in $mix_sizes; do
            log "mix: rekor-backfill $b n=$s"
            run_tool mix rust "$b" "$mix_conc" "$s"
            case $b in redis | redis-hot) slowlog_record "$b" rust "$s" ;; esac
            # Pre-filled lists: the smallest size says what they cost.
            [ "$b" != redis-hot ] || break
        done
    done
    for s in $mix_go; do
        log "mix: Go redis n=$s"
        run_tool mix go redis "$mix_conc" "$s"
        slowlog_record redis go "$s"
    done
    after_flush=
    flush redis
    flush mysql
    redis_cli CONFIG SET slowlog-max-len 128 >/dev/null
    url=$saved_url server_pids=$saved_pids
    kill "$mix_pid" 2>/dev/null || true
    wait "$mix_pid" 2>/dev/null || true
    mix_pid=
}

phase_checkpoint() {
    local r b i
    for ((r = 1; r <= ckpt_repeat; r++)); do
        for b in $backends; do
            for i in $ckpt_intervals; do
                log "checkpoint: $b interval=$i c=$ckpt_conc n=$size (round $r/$ckpt_repeat)"
                run_tool checkpoint rust "$b" "$ckpt_conc" "$size" "$i"
            done
        done
    done
}

# Where rekor-backfill's CPU goes: perf (cpu-clock samples with DWARF call
# graphs, as hardware counters are often missing in VMs) and strace's
# syscall counts, for a dry run and a Redis run. Optional: skipped when perf
# or strace cannot run here.
phase_profile() {
    local n=${BENCH_PROFILE_SIZE:-20000} c=${BENCH_PROFILE_CONCURRENCY:-5} b args env
    if ! perf stat -e cpu-clock true >/dev/null 2>&1; then
        log "profile: perf is not usable here (apt-get install linux-perf; perf_event_paranoid); skipped"
        return 0
    fi
    for b in dry redis; do
        log "profile: rekor-backfill $b c=$c n=$n"
        tool_command rust "$b" "$c" "$n" 1000
        flush "$b"
        env "${env[@]}" perf record -q -e cpu-clock -F 1999 --call-graph dwarf,16384 \
            -o "$out/perf-$b.data" -- "${args[@]}" >/dev/null 2>"$out/perf-$b.err" || true
        note_cmd "perf record -e cpu-clock -F 1999 --call-graph dwarf,16384 -- <the $b command above, -c $c, $n indices>"
        perf report -i "$out/perf-$b.data" --no-children --sort symbol --stdio -g none \
            --percent-limit 0.7 2>/dev/null | grep '%' | sed -E 's/ +(- +-)? *$//' >"$out/profile-self-$b.txt" || true
        perf report -i "$out/perf-$b.data" --children --sort symbol --stdio -g none \
            2>/dev/null | grep '%' | sed -E 's/ +(- +-)? *$//' |
            grep -E '(rekor_backfill::[A-Za-z0-9_:]+|Sink>::write|ureq::run::run|do_syscall_64)$' |
            awk '!seen[$NF]++' | head -25 >"$out/profile-tree-$b.txt" || true
        rm -f "$out/perf-$b.data"
        if command -v strace >/dev/null; then
            flush "$b"
            env "${env[@]}" strace -f -c -o "$out/strace-$b.txt" "${args[@]}" >/dev/null 2>&1 || true
            note_cmd "strace -f -c -- <the $b command above, -c $c, $n indices>"
        fi
    done
    echo "$n" >"$out/profile-size"
}

# ---------------------------------------------------------------- real stack

# The real stack (harness/stack/stack.sh) on its own ports and state dir.
# stack.sh reads REDIS_PORT and MYSQL_PORT, which here are the bench's
# backends: every port is passed explicitly.
stack_dir=
stack_sh() {
    env STACK_DIR="$stack_dir" STACK_SHADOW=0 REKOR_PORT="$stack_port" \
        REDIS_PORT=$((stack_port + 1)) MYSQL_PORT=$((stack_port + 2)) \
        TRILLIAN_SERVER_RPC=$((stack_port + 3)) TRILLIAN_SERVER_HTTP=$((stack_port + 4)) \
        TRILLIAN_SIGNER_RPC=$((stack_port + 5)) TRILLIAN_SIGNER_HTTP=$((stack_port + 6)) \
        harness/stack/stack.sh "$@"
}

# stack.sh up/down rewrite and remove its pointer to "the" running stack
# ($repo/.harness/stack.current); put back one that pointed elsewhere.
stack_pointer=$repo/.harness/stack.current
stack_pointer_saved=

# stack_down [EXIT_STATUS]: stop the stack if this script started one and
# remove its state dir (its MariaDB data); when something failed, its logs
# are copied to $out/stack-logs first.
stack_down() {
    [ -n "$stack_dir" ] || return 0
    if [ "${1:-0}" != 0 ] && [ -d "$stack_dir/logs" ]; then
        cp -r "$stack_dir/logs" "$out/stack-logs" 2>/dev/null || true
        log "stack: its logs are in $out/stack-logs"
    fi
    STACK_KEEP=0 stack_sh down >>"$out/stack.log" 2>&1 || log "stack: stack.sh down failed; see $out/stack.log"
    if [ -n "$stack_pointer_saved" ] && [ ! -e "$stack_pointer" ]; then
        echo "$stack_pointer_saved" >"$stack_pointer"
    fi
    stack_dir=
}

# Populate a fresh rekor-server (Trillian, MariaDB) with BENCH_STACK_SIZE
# hashedrekord entries, then BENCH_STACK_TOOLS alternately against it (Go
# and rekor-backfill through its API, rekor-backfill from its Trillian
# database) at each BENCH_STACK_CONCURRENCY, writing into the bench's own
# (flushed) backends.
phase_stack() {
    stack_pointer_saved=$(cat "$stack_pointer" 2>/dev/null || true)
    stack_dir=$(mktemp -d "${TMPDIR:-/tmp}/bench-stack.XXXXXX")
    log "stack: starting rekor-server v1.5.4 + Trillian + MariaDB + Redis on 127.0.0.1:$stack_port-$((stack_port + 6)) ($stack_dir)"
    local t0=$EPOCHREALTIME
    if ! stack_sh up redis >>"$out/stack.log" 2>&1; then
        tail -n 30 "$out/stack.log" >&2
        die "stack: the real Rekor stack did not come up (harness/stack/stack.sh up; see $out/stack.log)"
    fi
    log "stack: up in $(elapsed "$t0" "$EPOCHREALTIME") s"
    note_cmd "harness/stack/stack.sh up redis   # ports: REKOR_PORT=$stack_port, REDIS_PORT..TRILLIAN_SIGNER_HTTP=$((stack_port + 1))..$((stack_port + 6))"
    local pids=() name pid
    for name in rekor-server trillian_log_server trillian_log_signer mariadb redis; do
        read -r pid _ <"$stack_dir/pids/$name.pid" || die "stack: no pid for $name in $stack_dir/pids"
        pids+=("$pid")
    done
    local stack_url=http://127.0.0.1:$stack_port
    log "stack: uploading $stack_size hashedrekord entries ($stack_uploaders uploaders)"
    python3 "$benchtool" populate --url "$stack_url" --count "$stack_size" \
        --workers "$stack_uploaders" --workdir "$out/stack-key" --out "$results" ||
        die "stack: populating $stack_url failed"
    note_cmd "python3 harness/bench/benchtool.py populate --url $stack_url --count $stack_size --workers $stack_uploaders"

    # The stack's own MariaDB holds Trillian's tables; rust-trillian reads
    # them as the stack's user (a test credential of a throwaway instance).
    trillian_dsn="rekor:zaphod@tcp(127.0.0.1:$((stack_port + 2)))/trillian"
    local saved_url=$url saved_pids=$server_pids
    url=$stack_url server_pids=${pids[*]} source_db_pid=${pids[3]}
    alternate stack "$stack_size" "$stack_repeat" "$stack_conc" "$stack_tools"
    url=$saved_url server_pids=$saved_pids source_db_pid=
    stack_down 0
}

# ---------------------------------------------------------------- main

if [ -n "${BENCH_REPORT_FROM:-}" ]; then
    # Only render the report again (e.g. after editing profile-notes.md)
    # from a finished run's folder, with that run's settings.
    out=$BENCH_REPORT_FROM results=$BENCH_REPORT_FROM/results.jsonl commands=$BENCH_REPORT_FROM/commands.txt
    # shellcheck disable=SC1091
    . "$out/settings"
    kpe=$(cat "$out/keys-per-entry.json")
else
    ensure_tools
    build
    mkdir -p "$out"
    : >"$results"
    : >"$commands"
    printf 'mode=%s size=%s repeat=%s ckpt_repeat=%s\n' "$mode" "$size" "$repeat" "$ckpt_repeat" >"$out/settings"
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    start_services
    log "results in $out; load average $(cut -d' ' -f1-3 /proc/loadavg)"
    python3 "$benchtool" machine --out "$out/machine.json" --repo "$repo" --rust-bin "$rust_bin" \
        --go "$(command -v go || echo /usr/local/go/bin/go)" --go-stamp "$repo/.harness/bin/.backfill-index.stamp"
    keys_per_entry
    for p in $phases; do "phase_$p"; done
    date '+%Y-%m-%d %H:%M:%S %Z' >"$out/finished"
fi

mkdir -p "$(dirname "$chart")" "$(dirname "$report")"
chart_name=$(python3 -c "import os,sys; print(os.path.relpath(sys.argv[1], os.path.dirname(sys.argv[2])))" "$chart" "$report")
rm -f "$out/chart.gp"
python3 "$benchtool" report --results "$results" --machine "$out/machine.json" \
    --commands "$commands" --notes "$here/profile-notes.md" --profile-dir "$out" \
    --finished "$(cat "$out/finished")" --mode "$mode" --size "$size" \
    --repeat "$repeat" --checkpoint-repeat "$ckpt_repeat" --keys-per-entry "$kpe" --out "$report" --chart "$chart" \
    --chart-name "$chart_name" --chart-data "$out/chart.dat" --chart-script "$out/chart.gp"
# No chart script without comparison runs.
[ ! -s "$out/chart.gp" ] || gnuplot "$out/chart.gp"
[ -z "$results_copy" ] || cp "$results" "$results_copy"
log "report: $report; chart: $chart; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
