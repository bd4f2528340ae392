#!/usr/bin/env bash
# Ground truth: the search index rekor-server wrote at upload time, compared
# entry by entry with the index the Go `backfill-index` (and rekor-backfill,
# when built) rebuild from the same log. Runs against the running stack
# (stack.sh up; populate.sh), on its index backend (Redis or MySQL):
#
#   1. fetch every entry of the log (kinds, for the per-kind report)
#   2. snapshot the server's index (after its async writes have settled)
#   3. wipe the index, run backfill-index over the whole log, snapshot
#   4. wipe the index, run rekor-backfill over the whole log, snapshot
#   5. after each snapshot, replay the searches of populate.sh's probes.tsv
#      with `rekor-cli search` (what users see through the server)
#   6. wipe and restore the server's own index exactly, check it
#   7. per-kind report (gt_compare.py) and per-entry details
#
# usage: harness/stack/ground-truth.sh
# environment:
#   RUST_BIN     rekor-backfill binary (default: /work/main/target/release/
#                rekor-backfill, else $REPO/target/release/rekor-backfill;
#                RUST_BIN=none skips it)
#   CONCURRENCY  workers for both tools (default 4)
# Output: $STACK_DIR/ground-truth/ (dumps, tool logs, report.txt, details.txt).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(git -C "$here" rev-parse --show-toplevel)"
eval "$("$here/stack.sh" env)"
CONCURRENCY="${CONCURRENCY:-4}"

log() { echo "ground-truth: $*" >&2; }
die() { log "$*"; exit 1; }

if [ -z "${RUST_BIN:-}" ]; then
    for c in /work/main/target/release/rekor-backfill "$repo/target/release/rekor-backfill"; do
        [ -x "$c" ] && { RUST_BIN="$c"; break; }
    done
fi
[ "${RUST_BIN:-none}" != none ] && [ ! -x "$RUST_BIN" ] && die "RUST_BIN not executable: $RUST_BIN"
[ -x "$STACK_BIN/backfill-index" ] || die "missing $STACK_BIN/backfill-index (build.sh)"

GT="$STACK_DIR/ground-truth"
rm -rf "$GT"
mkdir -p "$GT"
POP="$STACK_DIR/populate"

# ------------------------------------------------------------------ index access

rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" -a "$REDIS_PASSWORD" --no-auth-warning "$@"; }
sql() { mariadb --no-defaults --protocol=socket -uroot --socket="$STACK_MYSQL_SOCKET" "$INDEX_DB" "$@"; }

# dump_raw: every index pair, `key<TAB>uuid`, Redis lists in LRANGE order.
# Non-list Redis keys (e.g. a checkpoint) are not index pairs and are skipped.
dump_raw() {
    if [ "$STACK_BACKEND" = redis ]; then
        rcli --raw EVAL "
            local out = {}
            for _, k in ipairs(redis.call('KEYS', '*')) do
                if redis.call('TYPE', k).ok == 'list' then
                    for _, v in ipairs(redis.call('LRANGE', k, 0, -1)) do
                        out[#out + 1] = k .. '\t' .. v
                    end
                end
            end
            return out" 0
    else
        sql -N -B --raw -e "SELECT EntryKey, EntryUUID FROM EntryIndex" 2>/dev/null || true
    fi
}

# dump NAME: $GT/NAME.raw (ordered) and $GT/NAME.tsv (`key<TAB>uuid<TAB>count`, sorted)
dump() {
    # (redis-cli --raw prints an empty array as one empty line)
    dump_raw | { grep -v '^$' || true; } >"$GT/$1.raw"
    LC_ALL=C sort "$GT/$1.raw" | LC_ALL=C uniq -c | sed -E 's/^ *([0-9]+) (.*)$/\2\t\1/' >"$GT/$1.tsv"
    log "$1: $(wc -l <"$GT/$1.tsv") index pairs, $(cut -f1 "$GT/$1.tsv" | sort -u | wc -l) keys"
}

wipe() {
    if [ "$STACK_BACKEND" = redis ]; then
        rcli FLUSHDB >/dev/null
    else
        sql -e "DELETE FROM EntryIndex" 2>/dev/null || true
        sql -e "DROP TABLE IF EXISTS BackfillCheckpoint"
    fi
}

# restore NAME: put $GT/NAME.raw back exactly (Redis: RPUSH in LRANGE order).
restore() {
    wipe
    if [ "$STACK_BACKEND" = redis ]; then
        python3 - "$GT/$1.raw" <<'PY' | rcli --pipe >/dev/null
import sys
out = sys.stdout.buffer
def cmd(*parts):
    out.write(b"*%d\r\n" % len(parts))
    for p in parts:
        out.write(b"$%d\r\n%s\r\n" % (len(p), p))
for line in open(sys.argv[1], "rb"):
    line = line.rstrip(b"\n")
    if line:
        k, v = line.split(b"\t", 1)
        cmd(b"RPUSH", k, v)
PY
    else
        python3 - "$GT/$1.raw" <<'PY' | sql
import sys
for line in open(sys.argv[1], "rb"):
    line = line.rstrip(b"\n")
    if line:
        k, v = line.split(b"\t", 1)
        print("INSERT IGNORE INTO EntryIndex (EntryKey, EntryUUID) VALUES "
              "(CONVERT(X'%s' USING utf8mb4), X'%s');" % (k.hex(), v.hex()))
PY
    fi
}

# probes NAME: replay populate's searches against the current index.
probes() {
    local out="$GT/probes-$1.tsv" label flag value fmt hits
    : >"$out"
    [ -f "$POP/probes.tsv" ] || return 0
    while IFS=$'\t' read -r label flag value fmt; do
        args=(search "--$flag" "$value")
        [ -n "$fmt" ] && args+=(--pki-format "$fmt")
        hits="$(HOME="$STACK_DIR/home" "$STACK_BIN/rekor-cli" --rekor_server "$REKOR_URL" "${args[@]}" 2>/dev/null \
                | grep -E '^[0-9a-f]{64,80}$' | sort || true)"
        printf '%s\t%s\t%s\n' "$label" "$(printf '%s' "$hits" | grep -c . || true)" "$(printf '%s' "$hits" | paste -sd, -)" >>"$out"
    done <"$POP/probes.tsv"
}

# ------------------------------------------------------------------ run

size="$(curl -fsS "$REKOR_URL/api/v1/log" | python3 -c 'import json,sys; print(json.load(sys.stdin)["treeSize"])')"
[ "$size" -gt 0 ] || die "the log is empty (populate.sh first)"
end=$((size - 1))
log "backend $STACK_BACKEND, log entries 0..$end"

python3 - "$REKOR_URL" "$size" >"$GT/entries.jsonl" <<'PY'
import base64, json, sys, urllib.request
url, size = sys.argv[1], int(sys.argv[2])
import urllib.error
for i in range(size):
    try:
        with urllib.request.urlopen("%s/api/v1/log/entries?logIndex=%d" % (url, i), timeout=30) as r:
            (uuid, e), = json.load(r).items()
    except urllib.error.HTTPError as err:
        # An entry the server cannot return (see populate.sh, dsse section).
        sys.stderr.write("ground-truth: logIndex %d unreadable: HTTP %d\n" % (i, err.code))
        print(json.dumps({"uuid": "unreadable-%d" % i, "logIndex": i, "kind": "UNREADABLE",
                          "apiVersion": "http-%d" % err.code}))
        continue
    body = json.loads(base64.b64decode(e["body"]))
    print(json.dumps({"uuid": uuid, "logIndex": e["logIndex"], "kind": body.get("kind"),
                      "apiVersion": body.get("apiVersion"), "body": e["body"]}))
PY

# The server indexes in a goroutine after answering the upload: wait until two
# snapshots a second apart agree.
prev=""
for _ in $(seq 1 30); do
    cur="$(dump_raw | LC_ALL=C sort | sha256sum)"
    [ "$cur" = "$prev" ] && break
    prev="$cur"
    sleep 1
done
dump server
probes server

# From here on the server's index is wiped: put it back whatever happens.
trap 'rc=$?; log "restoring the server index"; restore server; exit $rc' EXIT

run_tool() { # NAME CMD...
    local name="$1" t0 rc
    shift
    wipe
    t0=$(date +%s%N)
    set +e
    "$@" >"$GT/$name.stdout" 2>"$GT/$name.stderr"
    rc=$?
    set -e
    local ms=$((($(date +%s%N) - t0) / 1000000))
    log "$name: exit $rc in $((ms / 1000)).$(printf '%03d' $((ms % 1000)))s (logs $GT/$name.std{out,err})"
    echo "$rc" >"$GT/$name.rc"
    dump "$name"
    probes "$name"
}

if [ "$STACK_BACKEND" = redis ]; then
    go_backend=(--redis-hostname 127.0.0.1 --redis-port "$REDIS_PORT" --redis-password "$REDIS_PASSWORD")
    rust_env=(REDIS_PASSWORD="$REDIS_PASSWORD")
    rust_backend=(--redis-hostname 127.0.0.1 --redis-port "$REDIS_PORT")
else
    go_backend=(--mysql-dsn "$INDEX_DSN")
    rust_env=(MYSQL_DSN="$INDEX_DSN")
    rust_backend=()
fi
run_tool go "$STACK_BIN/backfill-index" --rekor-address "$REKOR_URL" --start 0 --end "$end" \
    --concurrency "$CONCURRENCY" "${go_backend[@]}"
dumps=(server="$GT/server.tsv" go="$GT/go.tsv")
if [ "${RUST_BIN:-none}" != none ]; then
    log "rekor-backfill: $RUST_BIN ($(stat -c %y "$RUST_BIN" | cut -d. -f1))"
    run_tool rust env "${rust_env[@]}" "$RUST_BIN" --rekor-address "$REKOR_URL" --start 0 --end "$end" \
        --concurrency "$CONCURRENCY" --checkpoint-interval 0 --failed-entries "$GT/rust.failed.jsonl" \
        "${rust_backend[@]}"
    dumps+=(rust="$GT/rust.tsv")
else
    log "rekor-backfill: not found, skipped"
fi

trap - EXIT
restore server
dump restored
cmp -s "$GT/server.tsv" "$GT/restored.tsv" || die "the restored index differs from the server's snapshot"
log "server index restored ($(wc -l <"$GT/restored.tsv") pairs)"

{
    echo "backend: $STACK_BACKEND   log entries: $size   go backfill-index exit: $(cat "$GT/go.rc")" \
        "$([ -f "$GT/rust.rc" ] && echo "  rekor-backfill exit: $(cat "$GT/rust.rc")")"
    python3 "$here/gt_compare.py" --entries "$GT/entries.jsonl" --labels "$POP/results.tsv" \
        --probes-dir "$GT" --details "$GT/details.txt" "${dumps[@]}"
} | tee "$GT/report.txt"
