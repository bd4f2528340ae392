#!/usr/bin/env bash
# The real-Rekor scenarios for rekor-backfill, on Redis and on MySQL: for each
# backend a fresh stack (stack.sh, with the shadow store for the Go tool),
# populated with every kind (populate.sh), then:
#
#   1   ground-truth     the server's own index vs rekor-backfill's after a
#                        wipe; every difference classified (stack-rules.json);
#                        every key and populate's probes searched through the
#                        server
#   1t  ground-truth-trillian  the same index read from Trillian's database
#                        (--trillian-mysql-dsn, --attestations-from-rekor)
#   2a-d upstream-*      rekor's tests/backfill-test.sh: from scratch, upper
#                        half removed, sparse removal, rerun of a complete index
#   3a-e checkpoint/cron checkpoint interval, resume after uploads,
#                        --reset-checkpoint, cron mode, concurrency 1 vs 20
#   4a-e faults          SIGKILL x5, rekor-server/Redis/MariaDB restarted
#                        mid-run, a fault-injecting proxy (429/503/drops/slow);
#                        the checkpoint is sampled every 100 ms throughout
#   8a-d outages         scenarios_outages.sh: the backend and rekor-server
#                        each stopped mid-run for 5 s and 30 s; with the
#                        default retry settings the run ends with status 0
#                        and the index equals the truth
#   5   go-side-by-side  Go backfill-index v1.5.4 into the shadow store,
#                        three-way report per kind
#   7a-b audit/fix-case  scenarios_audit.sh: audit of a damaged server index
#                        (exact figures), repaired by a backfill; fix-case on
#                        the Go tool's index (Redis), then its probes succeed
#   9a   verify-log      scenarios_verify.sh: --verify-log passes the real
#                        server's entries and names each tampered one (a
#                        body, a proof hash, a SET, a checkpoint signature)
#   6a-d lease/shards    two concurrent runs on one checkpoint (one exits
#                        4), a 4-shard run (--shard-count), a resume refused
#                        after rekor-server moved to a new Trillian tree
#                        6d (MySQL): deploy/kubernetes/indexed-job.yaml's
#                        command as 4 pods, one SIGKILLed and replaced
#   10a-d sharded log    run last: stack.sh rotate (a new tree, the old one
#                        an inactive shard), 4 uploads into the new tree;
#                        10a API source over both trees (new pairs vs the
#                        server's own), 10b Trillian source with the layout
#                        of GET /api/v1/log, 10c with --trillian-tree-ids
#                        old,new (no layout from Rekor), 10d SIGKILL x3 and
#                        resume across the tree boundary
#
# The entry source is a dimension: groups 2 and 3 run twice, with the API
# source and then with the Trillian source (--trillian-mysql-dsn,
# --attestations-from-rekor), the second time as 2a-t ... 3e-t with names
# ending in -trillian; group 4 adds 4a-t (kill/resume, the run slowed by
# tcpdelay.py in front of MariaDB for the source DSN only). Each twin is
# compared with the truth exactly as its API twin is.
#
# One line per scenario on stdout (PASS/FAIL, backend, name, time, reason),
# then `N passed, M failed`. Exit status 1 if any scenario failed. Every
# process started here is stopped by its PID on exit, also on failure.
#
# usage: harness/stack/scenarios.sh [redis] [mysql]     (default: both)
# environment:
#   RUST_BIN           rekor-backfill (default $REPO/target/release/rekor-backfill)
#   HARNESS_PENDING    fail (default): entries the tool reports as "not
#                      implemented yet" fail the scenario (every kind Rekor
#                      registers has a decoder, src/entry/body.rs KINDS);
#                      allow: they are counted as pending, not failures
#   HARNESS_OUT        results dir (default $REPO/.harness/scenarios)
#   HARNESS_ONLY       groups to run besides 1, e.g. "4" or "2 3" (default: all;
#                      1 always runs: the other groups compare with its index;
#                      1t, 5, 7, 9, 10 are groups too)
#   HARNESS_SOURCES    entry sources of groups 2, 3 and 4 (default "api trillian";
#                      "trillian" runs only their Trillian twins)
#   ports: REDIS_PORT=29379 REDIS_GO_PORT=29380 MYSQL_PORT=29306
#     REKOR_PORT=29000 REKOR_GO_PORT=29001 PROXY_PORT=29080 DBPROXY_PORT=29081
#     TRILLIAN_SERVER_RPC/HTTP=29090/29091 TRILLIAN_SIGNER_RPC/HTTP=29190/29191
# Output: $HARNESS_OUT/<backend>/ (logs, dumps, samples), $HARNESS_OUT/results.tsv,
# and the three-way report $REPO/.harness/report.md.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(git -C "$here" rev-parse --show-toplevel)"
H="$here"
RUST_BIN="${RUST_BIN:-$repo/target/release/rekor-backfill}"
HARNESS_PENDING="${HARNESS_PENDING:-fail}"
OUT="${HARNESS_OUT:-$repo/.harness/scenarios}"
REPORT="$repo/.harness/report.md"

export REDIS_PORT="${REDIS_PORT:-29379}" REDIS_GO_PORT="${REDIS_GO_PORT:-29380}"
export MYSQL_PORT="${MYSQL_PORT:-29306}" REKOR_PORT="${REKOR_PORT:-29000}"
export REKOR_GO_PORT="${REKOR_GO_PORT:-29001}" PROXY_PORT="${PROXY_PORT:-29080}"
export TRILLIAN_SERVER_RPC="${TRILLIAN_SERVER_RPC:-29090}" TRILLIAN_SERVER_HTTP="${TRILLIAN_SERVER_HTTP:-29091}"
export TRILLIAN_SIGNER_RPC="${TRILLIAN_SIGNER_RPC:-29190}" TRILLIAN_SIGNER_HTTP="${TRILLIAN_SIGNER_HTTP:-29191}"
export DBPROXY_PORT="${DBPROXY_PORT:-29081}"
export STACK_SHADOW=1
CK=harness   # the checkpoint key every run uses
HARNESS_SOURCES="${HARNESS_SOURCES:-api trillian}"

want() { [ -z "${HARNESS_ONLY:-}" ] || [[ " $HARNESS_ONLY " == *" $1 "* ]]; }
want_source() { [[ " $HARNESS_SOURCES " == *" $1 "* ]]; }

backends=("$@")
[ ${#backends[@]} -gt 0 ] || backends=(redis mysql)

note() { echo "harness: $*" >&2; }
die() { note "$*"; exit 1; }

[ -x "$RUST_BIN" ] || die "no rekor-backfill at $RUST_BIN (cargo build --release)"
for b in rekor-server rekor-cli backfill-index trillian_log_server trillian_log_signer; do
    [ -x "$repo/.harness/bin/$b" ] || die "missing .harness/bin/$b (harness/stack/build.sh)"
done
mkdir -p "$OUT"
: >"$OUT/results.tsv"
passed=0 failed=0

# ------------------------------------------------------------------ bookkeeping

# result STATUS ID NAME REASON: one line per scenario.
result() {
    local status="$1" id="$2" name="$3" reason="$4" secs
    secs="$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')"
    printf '%-4s %-5s %-4s %-31s %6ss  %s\n' "$status" "$B" "$id" "$name" "$secs" "$reason"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$status" "$B" "$id" "$name" "$secs" "$reason" >>"$OUT/results.tsv"
    if [ "$status" = PASS ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    [ "$status" = PASS ] || backend_failed=1
}
start() { T0="$(date +%s.%N)"; }
# check COND-RESULT MESSAGE: collect the reasons a scenario fails.
problems=()
bad() { problems+=("$*"); }
verdict() { # ID NAME OK-REASON
    if [ ${#problems[@]} -eq 0 ]; then result PASS "$1" "$2" "$3"
    else result FAIL "$1" "$2" "$(IFS=';'; echo "${problems[*]}" | sed 's/;/; /g')"; fi
    problems=()
}

# Background processes (tool runs, sampler, proxy) are jobs of this shell;
# on exit each running one is stopped by its PID, then the stack.
cleanup() {
    local rc=$? p
    for p in $(jobs -pr); do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ -n "${STACK_DIR:-}" ] && [ -d "${STACK_DIR:-/nonexistent}" ]; then
        STACK_KEEP="${backend_failed:-0}" "$H/stack.sh" down >>"$OUT/stack.log" 2>&1 || true
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

st() { python3 "$H/store.py" "$@"; }
# shellcheck source=harness/stack/scenarios_audit.sh
. "$H/scenarios_audit.sh"
# shellcheck source=harness/stack/scenarios_verify.sh
. "$H/scenarios_verify.sh"
# shellcheck source=harness/stack/scenarios_outages.sh
. "$H/scenarios_outages.sh"

# ------------------------------------------------------------------ the entry source

# SRC is where rb's runs read the entries: `api` (rekor-server's API, the
# default) or `trillian` (Trillian's database: --trillian-mysql-dsn, the
# layout from GET /api/v1/log unless the run passes --trillian-tree-ids,
# --attestations-from-rekor). A group written once runs with either:
# with_source sets SRC and the suffixes of its scenario IDs (SID, e.g.
# 2a-t), names (SNAME, e.g. upstream-from-scratch-trillian) and run names
# (RS: logs and dumps of both sources side by side). SRC_DB_PORT points the
# source's DSN (only that one) at the TCP delay proxy.
SRC=api SID="" SNAME="" RS="" SRC_DB_PORT=""
with_source() { # SOURCE FUNCTION: one group's function with that source
    want_source "$1" || return 0
    case "$1" in
        api) SRC=api SID="" SNAME="" RS="" ;;
        trillian) SRC=trillian SID="-t" SNAME="-trillian" RS="-t" ;;
    esac
    "$2"
    SRC=api SID="" SNAME="" RS=""
}
# trillian_dsn [PORT]: the stack's Trillian database (Trillian's own user;
# the tool only reads).
trillian_dsn() { echo "$STACK_MYSQL_USER:$STACK_MYSQL_PASSWORD@tcp(127.0.0.1:${1:-$STACK_MYSQL_PORT})/$TRILLIAN_DB"; }

# dbdelay_start NAME DELAY: the TCP delay proxy (tcpdelay.py
# --mysql-execute) in front of MariaDB on DBPROXY_PORT: each prepared
# statement the source runs waits DELAY. Only the source DSN goes through it
# (SRC_DB_PORT); the index backend does not. dbdelay_stop: stops it.
dbdelay_start() {
    local name="$1" delay="$2" i
    DBPROXY_LOG="$W/$name.dbdelay.jsonl"
    : >"$DBPROXY_LOG"
    python3 "$H/tcpdelay.py" --port "$DBPROXY_PORT" --upstream-port "$STACK_MYSQL_PORT" --delay "$delay" \
        --mysql-execute --log "$DBPROXY_LOG" 2>"$W/logs/$name.dbdelay.err" &
    DBPROXY_PID=$!
    for i in $(seq 1 50); do # no probe connection: it would count as one of the tool's
        if grep -q '"listening"' "$DBPROXY_LOG"; then SRC_DB_PORT="$DBPROXY_PORT"; return 0; fi
        sleep 0.1
    done
    bad "TCP delay proxy did not start"
}
dbdelay_stop() { kill -TERM "$DBPROXY_PID" 2>/dev/null; wait "$DBPROXY_PID" 2>/dev/null; SRC_DB_PORT=""; }

# ------------------------------------------------------------------ rekor-backfill

# rb NAME ARGS...: one rekor-backfill run against the stack's index, log in
# $W/logs/NAME.log, failures in $W/NAME.failed.jsonl; returns its exit status.
# RB_URL overrides the Rekor address (the proxy). rb_bg: the same in the
# background, its PID in RB_PID (the tool itself: env execs it).
rb_cmd() {
    local name="$1"
    rm -f "$W/$name.failed.jsonl"
    RB=(env)
    if [ "$B" = redis ]; then RB+=(REDIS_PASSWORD="$REDIS_PASSWORD"); else RB+=(MYSQL_DSN="$INDEX_DSN"); fi
    RB+=(RUST_LOG=info "$RUST_BIN" --rekor-address "${RB_URL:-$REKOR_URL}")
    [ "$B" = redis ] && RB+=(--redis-hostname 127.0.0.1 --redis-port "$REDIS_PORT")
    RB+=(--checkpoint-key "$CK" --failed-entries "$W/$name.failed.jsonl")
    # The summary line says how many attestations were not fetched (rb_ok).
    [ "$SRC" = trillian ] && RB+=(--trillian-mysql-dsn "$(trillian_dsn "$SRC_DB_PORT")" --attestations-from-rekor --summary json)
}
rb() {
    local name="$1"; shift
    rb_cmd "$name"
    "${RB[@]}" "$@" >"$W/logs/$name.log" 2>&1
}
rb_bg() {
    local name="$1"; shift
    rb_cmd "$name"
    "${RB[@]}" "$@" >"$W/logs/$name.log" 2>&1 &
    RB_PID=$!
}
# rb_ok NAME RC: the run indexed everything it could: 0, or 3 with only
# "not implemented yet" entries (pending kinds) when HARNESS_PENDING=allow.
# With the Trillian source, a run that did not read Trillian's database or
# left an attestation unfetched fails the scenario (whatever its status).
rb_ok() {
    if [ "$SRC" = trillian ]; then
        has_log "$1" "Trillian database mysql" || bad "$1 did not read from Trillian's database"
        if grep -q '^{.*"attestationsNotFetched"' "$W/logs/$1.log" \
            && ! grep '^{' "$W/logs/$1.log" | tail -n 1 | grep -q '"attestationsNotFetched":0[,}]'; then
            bad "$1: attestations not fetched: $(grep '^{' "$W/logs/$1.log" | tail -n 1 | grep -o '"attestationsNotFetched":[0-9]*')"
        fi
    fi
    [ "$2" = 0 ] && return 0
    [ "$2" = 3 ] && [ "$HARNESS_PENDING" = allow ] && st pending-only "$W/$1.failed.jsonl" && return 0
    return 1
}
rb_why() { # NAME RC: a short reason for a failed run
    echo "$1 exited $2: $(grep -E 'ERROR|Backfill (complete|stopped)|error' "$W/logs/$1.log" | tail -n 2 | cut -c1-200 | tr '\n' ' ')"
}
# rb_until_ok NAME ARGS...: reruns (NAME-1, NAME-2, ...) until a run is ok,
# at most 4 times; RERUNS says how many it took. Exit 4 (a SIGKILLed run's
# lease has not expired yet, at most 30 s on Redis) is retried every second
# for up to 40 s without counting; LEASE_WAIT says how long that took.
rb_until_ok() {
    local name="$1" i rc; shift
    LEASE_WAIT=0
    for i in 1 2 3 4; do
        rb "$name-$i" "$@"; rc=$?
        while [ "$rc" = 4 ] && [ "$LEASE_WAIT" -lt 40 ]; do
            sleep 1; LEASE_WAIT=$((LEASE_WAIT + 1))
            rb "$name-$i" "$@"; rc=$?
        done
        RERUNS=$i
        rb_ok "$name-$i" "$rc" && return 0
    done
    bad "$(rb_why "$name-4" "$rc")"
    return 1
}

cp_last() { # the stored checkpoint's lastCompletedIndex, or `none`
    st checkpoint "$CK" | python3 -c 'import json,sys; s=sys.stdin.read().strip(); print("none" if s=="none" else json.loads(s)["lastCompletedIndex"])'
}
dump() { st dump --counted "$W/$1.tsv"; }
# same_as_truth NAME: dump the index as NAME, compare with the truth.
same_as_truth() {
    local d
    dump "$1"
    d="$(st diff "$W/truth.tsv" "$W/$1.tsv")" || { bad "index after $1 differs from the truth: $d"; return 1; }
}
pending_note() { # NAME: "; N entries pending" when the run had pending entries
    local n
    n="$(st pending-count "$W/$1.failed.jsonl")"
    if [ "${n:-0}" -gt 0 ]; then echo "; $n entries pending (not implemented yet)"; fi
}
has_log() { grep -q "$2" "$W/logs/$1.log"; }

# ------------------------------------------------------------------ sampler, proxy

sampler_start() { # NAME
    SAMPLE_NAME="$1"
    python3 "$H/sampler.py" --checkpoint "$CK" --entries "$W/entries.jsonl" --truth "$W/truth.tsv" \
        --out "$W/$1.samples.jsonl" >"$W/$1.sampler.json" 2>"$W/logs/$1.sampler.err" &
    SAMPLER_PID=$!
    sleep 0.3   # the first sample before the tool starts
}
# sampler_stop: stops it and checks its summary; SAMPLED is a short report.
sampler_stop() {
    sleep 0.25   # a last sample of the final state
    kill -TERM "$SAMPLER_PID" 2>/dev/null
    wait "$SAMPLER_PID" 2>/dev/null
    SAMPLED="$(python3 - "$W/$SAMPLE_NAME.sampler.json" <<'PY'
import json, sys
try:
    s = json.load(open(sys.argv[1]))
except ValueError:
    print("BAD no sampler summary"); sys.exit()
tag = "BAD" if s["violation_count"] or not s["with_checkpoint"] else "OK"
v = s["violations"][0] if s["violations"] else None
print("%s %d samples (%d with a checkpoint, %d unreadable), %d violations%s" % (
    tag, s["samples"], s["with_checkpoint"], s["unreadable"], s["violation_count"],
    (": checkpoint %s covered log index %s before its keys %s were written"
     % (v["checkpoint"]["lastCompletedIndex"], v["logIndex"], v["missing"][:2])) if v else ""))
PY
)"
    case "$SAMPLED" in BAD*) bad "sampler: ${SAMPLED#BAD }";; esac
    SAMPLED="${SAMPLED#OK }"
}

proxy_start() { # NAME SCHEDULE DELAY [extra faultproxy args]
    local name="$1" schedule="$2" delay="$3"; shift 3
    PROXY_LOG="$W/$name.proxy.jsonl"
    : >"$PROXY_LOG"
    python3 "$H/faultproxy.py" --port "$PROXY_PORT" --upstream-port "$REKOR_PORT" --schedule "$schedule" \
        --delay "$delay" --log "$PROXY_LOG" "$@" 2>"$W/logs/$name.proxy.err" &
    PROXY_PID=$!
    local i
    for i in $(seq 1 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PROXY_PORT") 2>/dev/null && return 0
        sleep 0.1
    done
    bad "fault proxy did not start"
}
proxy_stop() { kill -TERM "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null; }

# ------------------------------------------------------------------ uploads (scenario 3)

# log_size: entries in the whole log (every shard), from GET /api/v1/log.
log_size() {
    curl -fsS "$REKOR_URL/api/v1/log" | PYTHONPATH="$H" python3 -c 'import json,sys,entries; print(entries.total_size(json.load(sys.stdin)))'
}

# upload_more N: N hashedrekord entries signed by fresh keys with self-signed
# certificates carrying a mixed-case e-mail; waits for the server's index
# writes, removes the server's pairs of the new entries from the index (so
# only the backfill can bring them back), and keeps them in
# $W/new-server.tsv / $W/new-entries.jsonl for the comparison.
upload_more() {
    local n="$1" i d="$W/upload" size0 size1
    mkdir -p "$d"
    size0="$(log_size)"
    for i in $(seq 1 "$n"); do
        local tag="u$RANDOM$RANDOM"
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/$tag.key" 2>/dev/null
        openssl req -x509 -new -key "$d/$tag.key" -subj "/CN=Harness $tag" -days 30 -sha256 \
            -addext "subjectAltName=email:Extra.$tag@Example.COM" -out "$d/$tag.crt" 2>/dev/null
        printf 'extra artifact %s %s\n' "$tag" "$(date +%s%N)" >"$d/$tag.txt"
        openssl dgst -sha256 -sign "$d/$tag.key" -out "$d/$tag.sig" "$d/$tag.txt"
        HOME="$STACK_DIR/home" "$STACK_BIN/rekor-cli" --rekor_server "$REKOR_URL" --store_tree_state=false \
            upload --type hashedrekord --artifact "$d/$tag.txt" --signature "$d/$tag.sig" \
            --public-key "$d/$tag.crt" >>"$W/logs/uploads.log" 2>&1 || { bad "upload $tag failed"; return 1; }
    done
    python3 "$H/entries.py" "$REKOR_URL" "$W/new-entries.jsonl" --from "$size0" >/dev/null
    st settle --quiet-for 0.5 "$W/after-upload.raw" || { bad "index did not settle after uploads"; return 1; }
    st select "$W/new-entries.jsonl" "$W/after-upload.raw" "$W/new-server.tsv"
    st remove-entries $(python3 -c 'import json,sys; print(" ".join(json.loads(l)["uuid"] for l in open(sys.argv[1])))' "$W/new-entries.jsonl")
    cat "$W/new-entries.jsonl" >>"$W/entries.jsonl"
    size1=$((size0 + n))
    END=$((size1 - 1))
}

# new_entries_ok NAME: the backfill's pairs for the uploaded entries vs the
# server's (classified), then the truth becomes the whole index.
new_entries_ok() {
    local name="$1"
    dump "$name"
    st select "$W/new-entries.jsonl" "$W/$name.tsv" "$W/$name.new.tsv"
    if ! python3 "$H/classify.py" --entries "$W/new-entries.jsonl" --backend "$B" --tool rust \
            --failed "$W/$name.failed.jsonl" "$W/new-server.tsv" "$W/$name.new.tsv" >"$W/$name.classify.txt"; then
        bad "new entries differ from the server's index: $(grep UNEXPLAINED "$W/$name.classify.txt" | head -n 2 | tr '\n' ' ')"
    fi
    # Old entries untouched: the truth is a subset of the new dump.
    st subset "$W/truth.tsv" "$W/$name.tsv" || bad "entries indexed before the upload changed"
    cp "$W/$name.tsv" "$W/truth.tsv"
}

# ------------------------------------------------------------------ 1 ground truth

s1_ground_truth() {
    start
    local rc
    st wipe
    rb gt --start 0 --end "$END" --concurrency 4 --checkpoint-interval 10; rc=$?
    rb_ok gt "$rc" || bad "$(rb_why gt "$rc")"
    dump rust
    cp "$W/rust.tsv" "$W/truth.tsv"
    python3 "$H/classify.py" --entries "$W/entries.jsonl" --backend "$B" --tool rust \
        --failed "$W/gt.failed.jsonl" --json "$W/rust.json" "$W/server.tsv" "$W/rust.tsv" \
        >"$W/classify-rust.txt" || bad "unexplained differences: $(grep -c UNEXPLAINED "$W/classify-rust.txt") pairs, e.g. $(grep -m1 UNEXPLAINED "$W/classify-rust.txt" | cut -c13-160)"
    python3 "$H/searches.py" probes --url "$REKOR_URL" --probes "$STACK_DIR/populate/probes.tsv" \
        --out "$W/hits-rust.json" 2>"$W/logs/probes-rust.err" || bad "rekor-cli search failed"
    python3 "$H/searches.py" check --url "$REKOR_URL" --server "$W/server.tsv" --tool "$W/rust.tsv" \
        --classified "$W/rust.json" --server-hits "$W/hits-server.json" --tool-hits "$W/hits-rust.json" \
        >"$W/search-rust.json" || bad "searches through the server: $(python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["problems"]; print(len(p), "problems, e.g.", p[0][:150])' "$W/search-rust.json")"
    verdict 1 ground-truth "$(python3 - "$W/rust.json" "$W/search-rust.json" <<'PY'
import collections, json, sys
c = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
k = c["kinds"]
tot = lambda f: sum(v[f] for v in k.values())
rules = collections.Counter()
for v in k.values():
    rules.update(v["rules"])
doc = ", ".join("%s %d" % (r, n) for r, n in sorted(rules.items()) if r != "not-implemented")
pend = sorted({name.split()[0] for name, v in k.items() if v["pending"]})
print("%d server pairs: %d same, %d documented (%s), %d unexplained; %d keys and %d probes searched OK%s" % (
    tot("server"), tot("same"), tot("documented"), doc or "none", tot("unexplained"),
    s["keys_searched"], s["probes"],
    ("; %d pending (not implemented yet: %s)" % (tot("pending"), " ".join(pend))) if pend else ""))
PY
)"
}

# ------------------------------------------------------------------ 1t ground truth, Trillian source

# Scenario 1's range read from Trillian's database instead of the API (the
# layout from GET /api/v1/log, the attestations of intoto/cose entries
# through the API): the index must be scenario 1's exactly.
s1t_trillian() {
    start
    local rc dsn summary
    dsn="$STACK_MYSQL_USER:$STACK_MYSQL_PASSWORD@tcp(127.0.0.1:$STACK_MYSQL_PORT)/$TRILLIAN_DB"
    st wipe
    rb gt-trillian --start 0 --end "$END" --concurrency 4 --checkpoint-interval 10 --reset-checkpoint \
        --trillian-mysql-dsn "$dsn" --attestations-from-rekor --summary json; rc=$?
    rb_ok gt-trillian "$rc" || bad "$(rb_why gt-trillian "$rc")"
    has_log gt-trillian "Trillian database mysql" || bad "the run did not read from Trillian's database"
    summary="$(grep '^{' "$W/logs/gt-trillian.log" | tail -n 1)"
    [[ "$summary" == *'"attestationsNotFetched":0'* ]] || bad "attestations not fetched: ${summary:0:200}"
    same_as_truth gt-trillian
    verdict 1t ground-truth-trillian "index equals scenario 1's (API source)$(pending_note gt-trillian)"
}

# ------------------------------------------------------------------ 5 Go side by side

s5_go() {
    start
    local rc
    st --target go wipe
    local go_backend=(--mysql-dsn "$INDEX_GO_DSN")
    [ "$B" = redis ] && go_backend=(--redis-hostname 127.0.0.1 --redis-port "$REDIS_GO_PORT" --redis-password "$REDIS_PASSWORD")
    "$STACK_BIN/backfill-index" --rekor-address "$REKOR_URL" --start 0 --end "$END" --concurrency 4 \
        "${go_backend[@]}" >"$W/logs/go.log" 2>&1; rc=$?
    echo "$rc" >"$W/go.rc"
    # Go exits 1 after "Backfill complete" when entries failed to parse (helm).
    if [ "$rc" != 0 ] && ! { grep -q '^Backfill complete' "$W/logs/go.log" && grep -q 'failed to parse' "$W/logs/go.log"; }; then
        bad "backfill-index exited $rc: $(tail -n 1 "$W/logs/go.log" | cut -c1-200)"
    fi
    st --target go dump --counted "$W/go.tsv"
    python3 "$H/classify.py" --entries "$W/entries.jsonl" --backend "$B" --tool go --json "$W/go.json" \
        "$W/server.tsv" "$W/go.tsv" >"$W/classify-go.txt" \
        || bad "Go differs from the server in ways docs/INDEX_KEYS.md §6 does not describe: $(grep -m1 UNEXPLAINED "$W/classify-go.txt" | cut -c13-160)"
    python3 "$H/searches.py" probes --url "$REKOR_GO_URL" --probes "$STACK_DIR/populate/probes.tsv" \
        --out "$W/hits-go.json" 2>"$W/logs/probes-go.err" || bad "rekor-cli search (Go index) failed"
    # Not a verdict: what users miss with Go's index goes into the report.
    python3 "$H/searches.py" check --url "$REKOR_GO_URL" --server "$W/server.tsv" --tool "$W/go.tsv" \
        --classified "$W/go.json" --server-hits "$W/hits-server.json" --tool-hits "$W/hits-go.json" \
        >"$W/search-go.json"
    python3 "$H/report.py" --out "$REPORT" "$OUT" >/dev/null 2>"$W/logs/report.err" || bad "report.py failed"
    verdict 5 go-side-by-side "$(python3 - "$W/go.json" "$W/search-go.json" "$rc" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
tot = lambda f: sum(v[f] for v in c["kinds"].values())
print("Go exit %s; %d Go pairs: %d same, %d documented differences (docs/INDEX_KEYS.md §6), %d unexplained; "
      "%d searches miss with Go's index; report .harness/report.md" % (
      sys.argv[3], tot("tool"), tot("same"), tot("documented"), tot("unexplained"), len(s["problems"])))
PY
)"
}

# ------------------------------------------------------------------ 2 upstream backfill-test.sh

# The Go script runs `--concurrency 5 --start 0 --end N` each time.
UP=(--concurrency 5 --start 0)

s2_upstream() {
    local rc n half
    # 2a: from scratch (FLUSHALL: checkpoint gone too); searches fail first.
    start
    st wipe
    [ "$(python3 "$H/searches.py" probes --url "$REKOR_URL" --probes <(head -n 1 "$STACK_DIR/populate/probes.tsv") --out /dev/stdout | grep -c '[0-9a-f]\{64\}')" = 0 ] \
        || bad "a search found entries in the wiped index"
    rb up-a$RS "${UP[@]}" --end "$END"; rc=$?
    rb_ok up-a$RS "$rc" || bad "$(rb_why up-a$RS "$rc")"
    same_as_truth up-a$RS
    verdict "2a$SID" "upstream-from-scratch$SNAME" "index equals the truth$(pending_note up-a$RS)"

    # 2b: upper half of the entries removed. A plain rerun finds the
    # checkpoint complete ("Nothing to do", as designed: Go has no
    # checkpoint); --reset-checkpoint rebuilds.
    start
    half=$(((END + 1) / 2))
    python3 -c 'import json,sys
for l in open(sys.argv[1]):
    if json.loads(l)["logIndex"] >= int(sys.argv[2]): print(l, end="")' "$W/entries.jsonl" "$half" >"$W/upper.jsonl"
    st remove-entries $(python3 -c 'import json,sys; print(" ".join(json.loads(l)["uuid"] for l in open(sys.argv[1])))' "$W/upper.jsonl")
    dump up-b-removed$RS
    st select "$W/upper.jsonl" "$W/truth.tsv" "$W/upper-truth.tsv"
    if [ -s "$W/upper-truth.tsv" ]; then
        st diff "$W/truth.tsv" "$W/up-b-removed$RS.tsv" >/dev/null && bad "removing the upper half removed nothing"
    fi
    rb up-b-plain$RS "${UP[@]}" --end "$END"; rc=$?
    [ "$rc" = 0 ] && has_log up-b-plain$RS "Nothing to do" || bad "plain rerun: exit $rc, no 'Nothing to do'"
    dump up-b-plain$RS
    st diff "$W/up-b-removed$RS.tsv" "$W/up-b-plain$RS.tsv" >/dev/null || bad "a rerun with 'Nothing to do' changed the index"
    rb up-b$RS "${UP[@]}" --end "$END" --reset-checkpoint; rc=$?
    rb_ok up-b$RS "$rc" || bad "$(rb_why up-b$RS "$rc")"
    same_as_truth up-b$RS
    verdict "2b$SID" "upstream-upper-half$SNAME" "$(wc -l <"$W/upper.jsonl") entries ($half..$END) removed; plain rerun: 'Nothing to do' (checkpoint covers 0..$END); --reset-checkpoint restores all"

    # 2c: sparse: every even log index removed.
    start
    python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["logIndex"] % 2 == 0: print(e["uuid"])' "$W/entries.jsonl" >"$W/even.uuids"
    st remove-entries $(cat "$W/even.uuids")
    rb up-c$RS "${UP[@]}" --end "$END" --reset-checkpoint; rc=$?
    rb_ok up-c$RS "$rc" || bad "$(rb_why up-c$RS "$rc")"
    same_as_truth up-c$RS
    verdict "2c$SID" "upstream-sparse$SNAME" "$(wc -l <"$W/even.uuids") even entries removed, rerun restores all"

    # 2d: a complete index is not changed by a rerun: byte-identical ordered
    # dump and checkpoint after a plain rerun; after a full rewrite
    # (--reset-checkpoint) the same pairs, none twice in a Redis list.
    start
    st dump --checkpoint "$CK" "$W/up-d-before$RS.raw"
    rb up-d$RS "${UP[@]}" --end "$END"; rc=$?
    rb_ok up-d$RS "$rc" || bad "$(rb_why up-d$RS "$rc")"
    st dump --checkpoint "$CK" "$W/up-d-after$RS.raw"
    cmp -s "$W/up-d-before$RS.raw" "$W/up-d-after$RS.raw" && cmp -s "$W/up-d-before$RS.raw.checkpoint" "$W/up-d-after$RS.raw.checkpoint" \
        || bad "plain rerun changed the snapshot"
    rb up-d-full$RS "${UP[@]}" --end "$END" --reset-checkpoint; rc=$?
    rb_ok up-d-full$RS "$rc" || bad "$(rb_why up-d-full$RS "$rc")"
    st dump "$W/up-d-full$RS.raw"
    same_as_truth up-d-full$RS
    local order="identical"
    cmp -s "$W/up-d-before$RS.raw" "$W/up-d-full$RS.raw" || order="differs (5 workers finish in another order; searches return sets)"
    verdict "2d$SID" "upstream-rerun-noop$SNAME" "rerun: byte-identical index and checkpoint; full rewrite: same pairs, no duplicates, list order $order"
}

# ------------------------------------------------------------------ 4 faults

# Runs are slowed by the proxy so that a fault lands in the middle of one.
FAST_RETRY=(--rekor-retry-count 12 --rekor-retry-wait-min 100ms --rekor-retry-wait-max 2s)

# fault_finish NAME: rerun to completion, then the index must equal the truth.
fault_finish() {
    local name="$1"
    rb_until_ok "$name-rerun" --concurrency 4 --checkpoint-interval 1 "${FAST_RETRY[@]}"
    same_as_truth "$name-final"
}

# kill_rounds ID NAME RUN ROUNDS [BOUNDARY]: ROUNDS times, a run slowed down is
# SIGKILLed at a random moment, then rerun until it completes; each rerun
# must resume from the killed run's checkpoint (or find nothing to do) and
# the index must equal the truth; the sampler watches the checkpoint
# throughout. The API source is slowed by the HTTP proxy (0.4 s per request,
# a run lasts about 2 s); the Trillian source by the TCP delay proxy in
# front of MariaDB for its DSN only (0.5 s per range query; a run lasts
# about 2.5 s). At least one kill must land mid-run: the
# run alive and indexing (`Indexing log entries` logged). With BOUNDARY (the
# first index of a later tree), at least one kill must leave a checkpoint
# below it, so that the rerun resumes across the tree boundary.
kill_rounds() {
    local id="$1" label="$2" run="$3" rounds="$4" boundary="${5:-}" delayed=0
    start
    local round t rc cps=() early=0 landed=0 crossed=0 waits=() name lo span cp
    local RB_URL="" SRC_DB_PORT=""
    if [ "$SRC" = trillian ]; then lo=0.3 span=2.2; else lo=0.3 span=1.7; fi
    for round in $(seq 1 "$rounds"); do
        name="$run$round$RS"
        st wipe
        sampler_start "$name"
        if [ "$SRC" = trillian ]; then dbdelay_start "$name" 0.5
        else proxy_start "$name" ok 0.4; RB_URL="http://127.0.0.1:$PROXY_PORT"; fi
        t="$(awk -v r="$RANDOM" -v lo="$lo" -v span="$span" 'BEGIN{srand(r); printf "%.2f", lo + rand() * span}')"
        # The Trillian source reads 100 leaves per statement by default: in
        # batches of 10 its checkpoint moves as often as the API source's.
        if [ "$SRC" = trillian ]; then rb_bg "$name" --concurrency 2 --checkpoint-interval 1 --trillian-batch-size 10
        else rb_bg "$name" --concurrency 2 --checkpoint-interval 1; fi
        if [ -n "$boundary" ] && [ "$round" = 1 ]; then
            # One kill placed, not drawn: as soon as a checkpoint below the
            # boundary is stored, so that a resume must cross it.
            t="$(kill_below "$boundary")"
        else
            sleep "$t"
        fi
        if kill -0 "$RB_PID" 2>/dev/null; then
            kill -KILL "$RB_PID"
            has_log "$name" "Indexing log entries" && landed=$((landed + 1))
        else
            early=$((early + 1))
        fi
        wait "$RB_PID" 2>/dev/null
        cp="$(cp_last)"
        cps+=("${t}s->$cp")
        [ -n "$boundary" ] && [ "$cp" != none ] && [ "$cp" -lt "$boundary" ] && crossed=$((crossed + 1))
        if [ "$SRC" = trillian ]; then
            dbdelay_stop
            delayed=$((delayed + $(grep -c '"event": "delayed"' "$DBPROXY_LOG")))
        else
            proxy_stop; RB_URL=""
        fi
        fault_finish "$name"
        waits+=("${LEASE_WAIT}s")
        has_log "$name-rerun-1" "Resuming from checkpoint\|Nothing to do: checkpoint" || [ "$cp" = none ] \
            || bad "round $round: the rerun did not resume from the checkpoint"
        sampler_stop
        [ "$SAMPLED" ] && last_sampled="$SAMPLED"
    done
    [ "$landed" -ge 1 ] || bad "no kill landed mid-run ($early of $rounds runs finished before the kill)"
    local via=""
    if [ "$SRC" = trillian ]; then
        [ "$delayed" -ge "$rounds" ] || bad "only $delayed statements of the killed runs went through the delay proxy"
        via="; $delayed statements of the killed runs delayed by the proxy"
    fi
    local across=""
    if [ -n "$boundary" ]; then
        [ "$crossed" -ge 1 ] || bad "no kill left a checkpoint below the tree boundary $boundary"
        across="; $crossed rerun(s) resumed below the tree boundary at $boundary and crossed it"
    fi
    verdict "$id" "$label" "kills at elapsed->checkpoint: ${cps[*]}; $landed landed while indexing, $early finished before the kill$across$via; waits for the killed run's lease: ${waits[*]}; reruns restore all; sampler: $last_sampled"
}

# kill_below BOUNDARY: waits (up to 20 s) until the running tool's stored
# checkpoint is below BOUNDARY; prints the elapsed time, e.g. `1.4(cp)`.
kill_below() {
    local i cp t0 ms
    t0="$(date +%s%N)"
    for i in $(seq 1 200); do
        cp="$(cp_last)"
        if [ "$cp" != none ] && [ "$cp" -lt "$1" ]; then
            ms=$((($(date +%s%N) - t0) / 1000000))
            printf '%d.%02d(cp)\n' $((ms / 1000)) $((ms % 1000 / 10))
            return
        fi
        kill -0 "$RB_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "never(cp)"
}

s4a_kill() { kill_rounds "4a$SID" "kill-9-x5$SNAME" kill 5; }

# restart_mid_run ID NAME SERVICE PAUSE: a slowed run; SERVICE stopped after
# 0.8 s and started again PAUSE seconds later.
restart_mid_run() {
    local id="$1" name="$2" service="$3" pause="$4" rc
    start
    st wipe
    sampler_start "$name"
    proxy_start "$name" ok 0.3
    RB_URL="http://127.0.0.1:$PROXY_PORT" rb_bg "$name" --concurrency 2 --checkpoint-interval 1 "${FAST_RETRY[@]}"
    sleep 0.8
    local alive=yes
    kill -0 "$RB_PID" 2>/dev/null || alive=no
    STACK_RESTART_PAUSE="$pause" "$H/stack.sh" restart "$service" >>"$W/logs/restarts.log" 2>&1 || bad "restarting $service failed"
    wait "$RB_PID"; rc=$?
    proxy_stop
    local first="first run exit $rc"
    # On the MySQL stack nothing of the index path uses Redis: a control run.
    [ "$B" = mysql ] && [ "$service" = redis ] && first="no effect on a MySQL index (control); $first"
    [ "$alive" = yes ] || bad "the run ended before the restart"
    RB_URL="" fault_finish "$name"
    sampler_stop
    verdict "$id" "$name" "$service restarted at 0.8s (down ${pause}s + restart); $first; $RERUNS rerun(s) to finish; index equals the truth; sampler: $SAMPLED"
}

s4e_proxy() {
    start
    local rc
    st wipe
    sampler_start proxy-faults
    # Seven faults in a row, then one success, over and over: a request may
    # meet all seven before it gets through (retry count 10).
    proxy_start proxy-faults "429,503,500,drop,reset,trunc,slow:0.4,ok" 0.02 --retry-after 1
    RB_URL="http://127.0.0.1:$PROXY_PORT" rb proxy-faults --concurrency 4 --checkpoint-interval 1 \
        --rekor-retry-count 10 --rekor-retry-wait-min 50ms --rekor-retry-wait-max 1s; rc=$?
    proxy_stop
    rb_ok proxy-faults "$rc" || bad "$(rb_why proxy-faults "$rc") (the retries should absorb every injected fault)"
    sampler_stop
    same_as_truth proxy-faults
    local served
    served="$(python3 -c 'import collections,json,sys
c = collections.Counter(json.loads(l)["action"].split(":")[0] for l in open(sys.argv[1]))
print(" ".join("%s=%d" % kv for kv in sorted(c.items())))' "$PROXY_LOG")"
    for f in 429 503 500 drop reset trunc slow; do
        echo "$served" | grep -q "\b$f=" || bad "fault $f was never injected (only $served)"
    done
    # Retry-After: one worker, a 429 then success: the retry waits >= 1 s
    # although --rekor-retry-wait-min is 50ms.
    st wipe
    proxy_start retry-after "429,ok,ok,ok,ok,ok,ok,ok,ok,ok,ok,ok,ok,ok,ok,ok" 0 --retry-after 1
    RB_URL="http://127.0.0.1:$PROXY_PORT" rb retry-after --concurrency 1 --checkpoint-interval 0 \
        --rekor-retry-count 3 --rekor-retry-wait-min 50ms --rekor-retry-wait-max 5s; rc=$?
    proxy_stop
    rb_ok retry-after "$rc" || bad "$(rb_why retry-after "$rc")"
    local gap
    gap="$(python3 -c 'import json,sys
r = [json.loads(l) for l in open(sys.argv[1])]
print("%.2f" % (r[1]["t"] - r[0]["t"]) if len(r) > 1 else "none")' "$PROXY_LOG")"
    awk -v g="$gap" 'BEGIN{exit !(g != "none" && g >= 0.95)}' || bad "Retry-After: 1 not honoured (next request after ${gap}s)"
    verdict 4e proxy-faults "injected: $served; first run exit $rc, index equals the truth; Retry-After honoured (${gap}s); sampler: $SAMPLED"
}

# A gateway (or an older server) that refuses the batch endpoint: the tool
# falls back to GET by index and still builds the same index.
s4g_batch_rejected() {
    start
    local rc
    st wipe
    proxy_start batch-rejected ok 0 --reject-post 404
    RB_URL="http://127.0.0.1:$PROXY_PORT" rb batch-rejected --concurrency 4 --checkpoint-interval 5; rc=$?
    proxy_stop
    rb_ok batch-rejected "$rc" || bad "$(rb_why batch-rejected "$rc")"
    same_as_truth batch-rejected
    local seen
    seen="$(python3 -c 'import collections,json,sys
c = collections.Counter("%s %s" % (r["method"], r["path"].split("?")[0]) for r in map(json.loads, open(sys.argv[1])))
print(", ".join("%d %s" % (n, k) for k, n in sorted(c.items())))' "$PROXY_LOG")"
    grep -q '"GET", "n": [0-9]*, "path": "/api/v1/log/entries?logIndex=' "$PROXY_LOG" || bad "no GET by log index after the POST was refused"
    verdict 4g batch-rejected "POST /entries/retrieve answered 404; requests: $seen; index equals the truth"
}

s4_faults() {
    want_source api || { with_source trillian s4a_kill; return; }
    s4a_kill
    restart_mid_run 4b restart-rekor-server rekor-server 1
    restart_mid_run 4c restart-redis redis 1
    restart_mid_run 4d restart-mariadb mariadb 1
    s4e_proxy
    # Back before the tool gives up: its reconnect succeeds on an empty Redis.
    restart_mid_run 4f restart-redis-quick redis 0
    s4g_batch_rejected
    # Kill/resume with the Trillian source (4a-t). The other faults act on
    # rekor-server or its HTTP traffic, which this source reads nothing of
    # but the layout and the attestations.
    with_source trillian s4a_kill
}

# ------------------------------------------------------------------ 3 checkpoint, cron, concurrency

s3_checkpoint() {
    local rc end0="$END" cp
    # 3a: interval 2; the stored checkpoint ends at --end.
    start
    st wipe
    sampler_start ck-interval$RS
    rb ck-a$RS --start 0 --end "$END" --checkpoint-interval 2 --concurrency 4; rc=$?
    sampler_stop
    rb_ok ck-a$RS "$rc" || bad "$(rb_why ck-a$RS "$rc")"
    cp="$(cp_last)"
    [ "$cp" = "$END" ] || bad "stored checkpoint $cp, expected $END"
    same_as_truth ck-a$RS
    verdict "3a$SID" "checkpoint-interval$SNAME" "--checkpoint-interval 2: checkpoint at $cp = --end; sampler: $SAMPLED$(pending_note ck-a$RS)"

    # 3b: 3 uploads, then a run without --end resumes and reaches the new end.
    start
    upload_more 3
    rb ck-b$RS --checkpoint-interval 2 --concurrency 4; rc=$?
    rb_ok ck-b$RS "$rc" || bad "$(rb_why ck-b$RS "$rc")"
    has_log ck-b$RS "Resuming from checkpoint: last completed index $end0" || bad "no 'Resuming from checkpoint: last completed index $end0'"
    cp="$(cp_last)"
    [ "$cp" = "$END" ] || bad "stored checkpoint $cp, expected the new end $END"
    new_entries_ok ck-b$RS
    verdict "3b$SID" "checkpoint-resume$SNAME" "3 uploads; rerun resumed from $end0, checkpoint now $cp; new entries match the server's own pairs"

    # 3c: --reset-checkpoint starts fresh at 0 (index wiped, checkpoint kept).
    start
    st wipe --keep-checkpoints
    rb ck-c$RS --reset-checkpoint --checkpoint-interval 2 --concurrency 4; rc=$?
    rb_ok ck-c$RS "$rc" || bad "$(rb_why ck-c$RS "$rc")"
    has_log ck-c$RS "Resuming from checkpoint" && bad "--reset-checkpoint resumed"
    has_log ck-c$RS "Indexing log entries 0\.\.=$END" || bad "did not start at 0"
    cp="$(cp_last)"
    [ "$cp" = "$END" ] || bad "stored checkpoint $cp, expected $END"
    same_as_truth ck-c$RS
    verdict "3c$SID" "checkpoint-reset$SNAME" "started at 0 although a checkpoint at $END existed; index equals the truth"

    # 3d: cron mode (no --start/--end) twice, uploads in between.
    start
    local end1="$END"
    rb cron-1$RS --checkpoint-interval 2; rc=$?
    [ "$rc" = 0 ] && has_log cron-1$RS "Nothing to do" || bad "cron run 1: exit $rc, expected 'Nothing to do'"
    upload_more 2
    rb cron-2$RS --checkpoint-interval 2; rc=$?
    rb_ok cron-2$RS "$rc" || bad "$(rb_why cron-2$RS "$rc")"
    has_log cron-2$RS "Resuming from checkpoint: last completed index $end1" || bad "cron run 2 did not resume from $end1"
    cp="$(cp_last)"
    [ "$cp" = "$END" ] || bad "stored checkpoint $cp, expected $END"
    new_entries_ok cron-2$RS
    verdict "3d$SID" "cron$SNAME" "run 1: 'Nothing to do'; 2 uploads; run 2 resumed from $end1 to $cp"

    # 3e: concurrency 1 and 20 give the same index.
    start
    st wipe
    rb conc-1$RS --reset-checkpoint --concurrency 1 --checkpoint-interval 5; rc=$?
    rb_ok conc-1$RS "$rc" || bad "$(rb_why conc-1$RS "$rc")"
    same_as_truth conc-1$RS
    st wipe
    rb conc-20$RS --reset-checkpoint --concurrency 20 --checkpoint-interval 5; rc=$?
    rb_ok conc-20$RS "$rc" || bad "$(rb_why conc-20$RS "$rc")"
    same_as_truth conc-20$RS
    st diff "$W/conc-1$RS.tsv" "$W/conc-20$RS.tsv" >/dev/null || bad "concurrency 1 and 20 differ"
    verdict "3e$SID" "concurrency-1-vs-20$SNAME" "identical indexes ($(wc -l <"$W/conc-1$RS.tsv") pairs), equal to the truth"
}

# ------------------------------------------------------------------ 6 lease, shards, log binding

s6_lease() {
    local rc i
    # 6a: a run (slowed by the proxy) holds the checkpoint; a second run with
    # the same name exits 4 at once, names the checkpoint and the time, and
    # writes nothing; the first completes and the index equals the truth.
    start
    st wipe
    proxy_start lease-a ok 0.4
    RB_URL="http://127.0.0.1:$PROXY_PORT" rb_bg lease-a --concurrency 2 --checkpoint-interval 1
    local a_pid="$RB_PID" t=0
    until has_log lease-a "Lease on checkpoint" || [ "$t" -ge 100 ]; do sleep 0.1; t=$((t + 1)); done
    local t0=$SECONDS
    rb lease-b --concurrency 2; rc=$?
    local took=$((SECONDS - t0))
    kill -0 "$a_pid" 2>/dev/null || bad "the first run ended before the second one ran"
    wait "$a_pid"; local rc_a=$?
    proxy_stop
    [ "$rc" = 4 ] || bad "second run: exit $rc, expected 4"
    has_log lease-b "another run holds checkpoint $CK since 20" || bad "second run: no 'another run holds checkpoint $CK since …'"
    has_log lease-b "Indexing log entries" && bad "the second run started indexing"
    [ "$took" -le 5 ] || bad "the second run took ${took}s to give up"
    rb_ok lease-a "$rc_a" || bad "$(rb_why lease-a "$rc_a")"
    same_as_truth lease-a
    verdict 6a lease-concurrent-runs "second run exit $rc after ${took}s: $(grep -o 'another run holds checkpoint [^;]*' "$W/logs/lease-b.log" | head -n1 | cut -c1-120); first run exit $rc_a, index equals the truth"

    # 6b: four shards in parallel over 0..END, each its own checkpoint
    # CK:shard-I-of-4 covering exactly its part; the union equals the truth.
    start
    st wipe
    local pids=() parts
    parts="$(python3 -c 'import sys
n, end = 4, int(sys.argv[1]); total = end + 1; base, extra = divmod(total, n); a = 0
for i in range(n):
    size = base + (i < extra); print("%d %d" % (a, a + size - 1)); a += size' "$END")"
    for i in 0 1 2 3; do
        rb_bg "shard-$i" --shard-count 4 --shard-index "$i" --end "$END" --concurrency 2 --checkpoint-interval 5
        pids+=("$RB_PID")
    done
    local codes=()
    for i in 0 1 2 3; do
        wait "${pids[$i]}"; rc=$?
        codes+=("$rc")
        rb_ok "shard-$i" "$rc" || bad "$(rb_why "shard-$i" "$rc")"
    done
    i=0
    while read -r a b; do
        local cp
        cp="$(st checkpoint "$CK:shard-$i-of-4" | python3 -c 'import json,sys; s=sys.stdin.read().strip(); print("none" if s=="none" else "%s..%s" % (json.loads(s)["firstIndex"], json.loads(s)["lastCompletedIndex"]))')"
        [ "$cp" = "$a..$b" ] || bad "shard $i: checkpoint $cp, expected $a..$b"
        has_log "shard-$i" "indices $a..=$b" || bad "shard $i did not log its part $a..=$b"
        i=$((i + 1))
    done <<<"$parts"
    same_as_truth shards
    verdict 6b shards-4 "exits ${codes[*]}; parts $(echo $parts | tr '\n' ' '); each checkpoint covers its part; union equals the truth"

    # 6c: rekor-server restarted on a new Trillian tree (a reset log): a
    # resume is refused with exit 2 before anything is written; back on the
    # old tree the checkpoint resumes again.
    start
    st wipe
    rb bind-full --concurrency 4 --checkpoint-interval 5; rc=$?
    rb_ok bind-full "$rc" || bad "$(rb_why bind-full "$rc")"
    local old_tree new_tree
    old_tree="$(cat "$STACK_DIR/tree_id")"
    mv "$STACK_DIR/tree_id" "$STACK_DIR/tree_id.orig"
    "$H/stack.sh" restart rekor-server >>"$W/logs/restarts.log" 2>&1 || bad "restarting rekor-server on a new tree failed"
    new_tree="$(cat "$STACK_DIR/tree_id" 2>/dev/null)"
    [ -n "$new_tree" ] && [ "$new_tree" != "$old_tree" ] || bad "rekor-server did not move to a new tree ($old_tree -> ${new_tree:-none})"
    st dump --checkpoint "$CK" "$W/bind-before.raw"
    rb bind-refused --concurrency 4; rc=$?
    st dump --checkpoint "$CK" "$W/bind-after.raw"
    [ "$rc" = 2 ] || bad "resume on the new tree: exit $rc, expected 2"
    has_log bind-refused "belongs to another log" && has_log bind-refused "reset-checkpoint" \
        || bad "resume on the new tree: no refusal naming --reset-checkpoint"
    cmp -s "$W/bind-before.raw" "$W/bind-after.raw" && cmp -s "$W/bind-before.raw.checkpoint" "$W/bind-after.raw.checkpoint" \
        || bad "the refused run changed the index or the checkpoint"
    mv "$STACK_DIR/tree_id.orig" "$STACK_DIR/tree_id"
    "$H/stack.sh" restart rekor-server >>"$W/logs/restarts.log" 2>&1 || bad "restarting rekor-server on the old tree failed"
    rb bind-back --concurrency 4; rc=$?
    [ "$rc" = 0 ] && has_log bind-back "Nothing to do: checkpoint" || bad "back on tree $old_tree: exit $rc, expected 'Nothing to do'"
    verdict 6c resume-refused-new-tree "tree $old_tree -> $new_tree: exit 2, '$(grep -o 'belongs to another log' "$W/logs/bind-refused.log" | head -n1)', nothing written; back on $old_tree: resumes ('Nothing to do')"
}

# ------------------------------------------------------------------ 6d Kubernetes Indexed Job

# deploy/kubernetes/indexed-job.yaml, simulated: its container's args
# (harness/k8s-manifests expands them as the kubelet does, END_INDEX = the
# log's last index) run as its 4 pods in parallel, each with its
# JOB_COMPLETION_INDEX, through a slowed proxy; pod 1 is SIGKILLed mid-run and
# replaced by a pod with the same index, retried on status 1 or 4 as the
# Job's podFailurePolicy does. Only the Rekor address is changed (the stack's)
# and --pushgateway left out (none here). The index must equal the truth.
s6_indexed_job() {
    start
    local manifest="$repo/deploy/kubernetes/indexed-job.yaml" args=() a i rc tries pods=() statuses=()
    local raw
    raw="$(cd "$repo/harness/k8s-manifests" && go run . args "$manifest" END_INDEX="$END")" \
        || { bad "k8s-manifests args: $raw"; verdict 6d k8s-indexed-job ""; return; }
    while IFS= read -r a; do
        case "$a" in
        --rekor-address=*) args+=("--rekor-address=http://127.0.0.1:$PROXY_PORT") ;;
        --pushgateway=*) ;;
        *) args+=("$a") ;;
        esac
    done <<<"$raw"
    local count
    count="$(printf '%s\n' "${args[@]}" | sed -n 's/^--shard-count=//p')"
    [ -n "$count" ] || { bad "the manifest passes no --shard-count"; verdict 6d k8s-indexed-job ""; return; }
    k8s_pod() { # INDEX NAME: one pod of the Job, in the background
        env MYSQL_DSN="$INDEX_DSN" JOB_COMPLETION_INDEX="$1" RUST_LOG=info "$RUST_BIN" "${args[@]}" \
            >"$W/logs/$2.log" 2>&1 &
        pods[$1]=$!
    }
    st wipe
    proxy_start k8s ok 1.0 # 1 s per request: pod 1 is killed with its first batches in flight
    for ((i = 0; i < count; i++)); do k8s_pod "$i" "k8s-pod-$i"; done
    sleep 1.5
    if kill -0 "${pods[1]}" 2>/dev/null; then kill -KILL "${pods[1]}"; else bad "pod 1 finished before the kill"; fi
    wait "${pods[1]}" 2>/dev/null
    for ((i = 0; i < count; i++)); do
        [ "$i" = 1 ] && continue
        wait "${pods[$i]}"; statuses[$i]=$?
    done
    for tries in 1 2 3 4; do # the replacement pod, with the Job's retries
        k8s_pod 1 "k8s-pod-1-retry-$tries"
        wait "${pods[1]}"; rc=$?
        statuses[1]=$rc
        case "$rc" in 1 | 4) sleep 5 ;; *) break ;; esac
    done
    proxy_stop
    for ((i = 0; i < count; i++)); do
        [ "${statuses[$i]}" = 0 ] || bad "pod $i exited ${statuses[$i]}"
    done
    same_as_truth k8s-indexed-job
    verdict 6d k8s-indexed-job "$count pods from the manifest's args, pod 1 killed and replaced ($tries tries); index equal to the truth ($(wc -l <"$W/k8s-indexed-job.tsv") pairs)"
}

# ------------------------------------------------------------------ 10 a sharded log (two trees)

# The log is rotated once, as an operator shards a Rekor log (stack.sh
# rotate: a new Trillian tree, the old one listed in the sharding config as
# inactive, rekor-server restarted on the new tree), then 4 entries are
# uploaded, which land in the new tree; the server indexes them and their
# pairs become part of the truth (classified against the server's own, as in
# 3b). Then the whole two-tree log is backfilled from each source. Runs last:
# it changes the log for good.
s10_sharded() {
    local rc old new info boundary
    SHARD_BOUNDARY=""
    # 10a: rotation, uploads, the API source over both trees.
    start
    old="$(cat "$STACK_DIR/tree_id")"
    boundary=$((END + 1))
    SHARD_BOUNDARY="$boundary"   # the new tree's first global index (10d)
    "$H/stack.sh" rotate >>"$W/logs/restarts.log" 2>&1 || bad "stack.sh rotate failed: $(tail -n 1 "$W/logs/restarts.log")"
    eval "$("$H/stack.sh" env)"
    new="$TREE_ID"
    info="$(curl -fsS "$REKOR_URL/api/v1/log" | python3 -c 'import json,sys
i = json.load(sys.stdin)
print(i["treeID"], i["treeSize"], " ".join("%s:%s" % (s["treeID"], s["treeSize"]) for s in i.get("inactiveShards") or []))')"
    [ "$info" = "$new 0 $old:$boundary" ] \
        || bad "after the rotation GET /api/v1/log says '$info' (active tree, size, inactive tree:size), expected '$new 0 $old:$boundary'"
    upload_more 4
    local prefix landed_new
    prefix="$(printf '%016x' "$new")"
    landed_new="$(tail -n 4 "$W/entries.jsonl" | python3 -c 'import json,sys
print(sum(json.loads(l)["uuid"].startswith(sys.argv[1]) for l in sys.stdin))' "$prefix")"
    [ "$landed_new" = 4 ] || bad "$landed_new of the 4 uploads have an entry ID of the new tree ($prefix...)"
    [ "$TRILLIAN_TREE_IDS" = "$old,$new" ] || bad "stack env lists the trees '$TRILLIAN_TREE_IDS', expected '$old,$new'"
    st wipe
    rb shard-api --reset-checkpoint --concurrency 4 --checkpoint-interval 5; rc=$?
    rb_ok shard-api "$rc" || bad "$(rb_why shard-api "$rc")"
    has_log shard-api "$((END + 1)) entries (active shard $new of 4 entries, 1 inactive shard(s))" \
        || bad "the run did not see both trees: $(grep -o '[0-9]* entries (active shard.*)' "$W/logs/shard-api.log" | head -n 1)"
    local cp
    cp="$(cp_last)"
    [ "$cp" = "$END" ] || bad "stored checkpoint $cp, expected $END"
    new_entries_ok shard-api
    verdict 10a sharded-api "rotated: tree $old (indices 0..$((boundary - 1))) inactive, $new active; 4 uploads landed in $new; the API source over both trees: new pairs equal the server's own, old ones unchanged; checkpoint $cp"

    with_source trillian s10_trillian
}

s10_trillian() {
    local rc old new cp
    old="${TRILLIAN_TREE_IDS%%,*}" new="$TREE_ID"
    # 10b: the Trillian source, layout from GET /api/v1/log.
    start
    st wipe
    rb shard-layout$RS --reset-checkpoint --concurrency 4 --checkpoint-interval 5; rc=$?
    rb_ok shard-layout$RS "$rc" || bad "$(rb_why shard-layout$RS "$rc")"
    has_log shard-layout$RS "$((END + 1)) entries (active shard $new of 4 entries, 1 inactive shard(s))" \
        || bad "the run did not see both trees"
    cp="$(cp_last)"
    [ "$cp" = "$END" ] || bad "stored checkpoint $cp, expected $END"
    same_as_truth shard-layout$RS
    verdict "10b" "sharded-layout$SNAME" "trees $old,$new as GET /api/v1/log lists them, read from Trillian's database: index equals the truth ($(wc -l <"$W/shard-layout$RS.tsv") pairs), checkpoint $cp"

    # 10c: the Trillian source with --trillian-tree-ids old,new: the layout
    # from the database, not from Rekor; rekor-server (through the proxy,
    # which logs every request) serves only the attestations.
    start
    st wipe
    proxy_start shard-ids$RS ok 0
    RB_URL="http://127.0.0.1:$PROXY_PORT" rb shard-ids$RS --trillian-tree-ids "$old,$new" --reset-checkpoint \
        --concurrency 4 --checkpoint-interval 5; rc=$?
    proxy_stop
    rb_ok shard-ids$RS "$rc" || bad "$(rb_why shard-ids$RS "$rc")"
    has_log shard-ids$RS "$((END + 1)) entries (active shard $new of 4 entries, 1 inactive shard(s))" \
        || bad "the run did not see both trees"
    local asked
    asked="$(python3 -c 'import collections,json,sys
c = collections.Counter("%s %s" % (r["method"], r["path"].split("?")[0]) for r in map(json.loads, open(sys.argv[1])))
print(", ".join("%d %s" % (n, k) for k, n in sorted(c.items())) or "nothing")' "$PROXY_LOG")"
    grep -q '"path": "/api/v1/log"' "$PROXY_LOG" && bad "the run asked rekor-server for the layout ($asked)"
    cp="$(cp_last)"
    [ "$cp" = "$END" ] || bad "stored checkpoint $cp, expected $END"
    same_as_truth shard-ids$RS
    verdict "10c" "sharded-tree-ids$SNAME" "--trillian-tree-ids $old,$new: layout from the database; rekor-server asked only $asked; index equals the truth, checkpoint $cp"

    # 10d: SIGKILL and resume across the tree boundary.
    kill_rounds 10d "sharded-kill-resume$SNAME" shard-kill 3 "$SHARD_BOUNDARY"
}

# ------------------------------------------------------------------ per backend

ALL_SCENARIOS=("1 ground-truth" "1t ground-truth-trillian" "5 go-side-by-side" "2a upstream-from-scratch" "2b upstream-upper-half"
    "2c upstream-sparse" "2d upstream-rerun-noop" "4a kill-9-x5" "4b restart-rekor-server"
    "4c restart-redis" "4d restart-mariadb" "4e proxy-faults" "4f restart-redis-quick" "4g batch-rejected"
    "8a backend-outage-5s" "8b backend-outage-30s" "8c rekor-outage-5s" "8d rekor-outage-30s" "3a checkpoint-interval"
    "3b checkpoint-resume" "3c checkpoint-reset" "3d cron" "3e concurrency-1-vs-20"
    "6a lease-concurrent-runs" "6b shards-4" "6c resume-refused-new-tree" "6d k8s-indexed-job"
    "7a audit-repair" "7b fix-case-go" "9a verify-log" "9t verify-log-trillian"
    "2a-t upstream-from-scratch-trillian" "2b-t upstream-upper-half-trillian" "2c-t upstream-sparse-trillian"
    "2d-t upstream-rerun-noop-trillian" "3a-t checkpoint-interval-trillian" "3b-t checkpoint-resume-trillian"
    "3c-t checkpoint-reset-trillian" "3d-t cron-trillian" "3e-t concurrency-1-vs-20-trillian"
    "4a-t kill-9-x5-trillian" "10a sharded-api" "10b sharded-layout-trillian" "10c sharded-tree-ids-trillian"
    "10d sharded-kill-resume-trillian")

fail_all() { # REASON: the stack could not be prepared
    local s
    start
    for s in "${ALL_SCENARIOS[@]}"; do result FAIL "${s%% *}" "${s#* }" "$1"; done
}

run_backend() {
    B="$1"
    backend_failed=0
    W="$OUT/$B"
    rm -rf "$W"
    mkdir -p "$W/logs"
    STACK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/rekor-scenarios-$B.XXXXXX")"
    export STACK_DIR
    note "$B: stack up ($STACK_DIR)"
    if ! "$H/stack.sh" up "$B" >>"$W/logs/stack.log" 2>&1; then
        fail_all "stack did not start: $(tail -n 3 "$W/logs/stack.log" | tr '\n' ' ' | cut -c1-200)"
        return
    fi
    eval "$("$H/stack.sh" env)"
    note "$B: populate"
    local rc
    "$H/populate.sh" >"$W/logs/populate.log" 2>&1; rc=$?
    if [ "$rc" = 1 ]; then fail_all "populate.sh failed: $(tail -n 2 "$W/logs/populate.log" | tr '\n' ' ')"; return; fi
    [ "$rc" = 3 ] && note "$B: some uploads failed unexpectedly (populate.log); going on"
    local size
    size="$(python3 "$H/entries.py" "$REKOR_URL" "$W/entries.jsonl")"
    END=$((size - 1))
    st settle "$W/server.raw" || { fail_all "the server's index did not settle"; return; }
    st dump --counted "$W/server.tsv"
    python3 "$H/searches.py" probes --url "$REKOR_URL" --probes "$STACK_DIR/populate/probes.tsv" \
        --out "$W/hits-server.json" 2>"$W/logs/probes-server.err" || { fail_all "rekor-cli search failed on the server's index"; return; }
    note "$B: $size entries, $(wc -l <"$W/server.tsv") server pairs; scenarios"
    s1_ground_truth
    want 1t && s1t_trillian
    want 5 && s5_go
    want 7 && s7_audit
    want 9 && s9_verify
    if want 2; then with_source api s2_upstream; with_source trillian s2_upstream; fi
    want 4 && s4_faults
    want 8 && s8_outages
    if want 3; then with_source api s3_checkpoint; with_source trillian s3_checkpoint; fi
    want 6 && s6_lease
    [ "$B" = mysql ] && want 6 && s6_indexed_job # the manifest's backend
    want 10 && s10_sharded # last: the log has two trees from here on
    STACK_KEEP="$backend_failed" "$H/stack.sh" down >>"$W/logs/stack.log" 2>&1
    [ "$backend_failed" = 1 ] && note "$B: state dir kept for inspection: $STACK_DIR"
    STACK_DIR=""
}

for b in "${backends[@]}"; do
    case "$b" in redis|mysql) run_backend "$b" ;; *) die "unknown backend '$b'" ;; esac
done
python3 "$H/report.py" --out "$REPORT" "$OUT" >/dev/null 2>&1 || true
pending_runs=0
for f in "$OUT"/*/*.failed.jsonl; do
    [ -f "$f" ] && [ "$(st pending-count "$f")" -gt 0 ] && pending_runs=$((pending_runs + 1))
done
[ "$pending_runs" -gt 0 ] && echo "note: $pending_runs rekor-backfill runs met entries of kinds not implemented yet (pending; HARNESS_PENDING=$HARNESS_PENDING)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
