#!/usr/bin/env bash
# The demo (`make demo`): private Redis and MariaDB on loopback, a replay of
# real Rekor log entries (testdata/corpus, served at 2,000 log indices by
# harness/replay-rekor), and rekor-backfill filling both indexes, resuming
# from its checkpoint after the log grows, and doing nothing on a rerun.
#
# Every step is checked, not just its exit status: the entries fetched, the
# entries that cannot be indexed, every (key, entry) pair in Redis and MySQL,
# example searches down to the UUIDs, the checkpoints (harness/demo_check.py
# computes what they must be from the corpus). The first step that does not
# do what it says prints `FAILED: <step>: <why>` and the demo exits 1.
# Everything it starts is stopped on exit.
#
# Knobs (environment):
#   DEMO_REDIS_PORT, DEMO_MYSQL_PORT  ports of the private services (16479, 13406)
#   DEMO_STATE                        working directory (.harness/demo)
#   DEMO_REDIS_PASSWORD               the password rekor-backfill is given
#                                     (default: the services' own, `test`)
#   DEMO_BACKFILL_ARGS                extra flags for every backfill run
# The last two exist to prove the checks work: harness/test-demo.sh runs the
# demo with a wrong password and with --dry-run and expects FAILED lines.
set -Eeuo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
state=${DEMO_STATE:-$repo/.harness/demo}
corpus=$repo/testdata/corpus/entries.jsonl
bin=$repo/target/release/rekor-backfill
check=(python3 "$repo/harness/demo_check.py")
export REDIS_PORT=${DEMO_REDIS_PORT:-16479} MYSQL_PORT=${DEMO_MYSQL_PORT:-13406}
# The services' credentials (harness/services.sh); the checks always use them.
readonly SERVICE_REDIS_PASSWORD=test MYSQL_USER=test MYSQL_PASSWORD=zaphod MYSQL_DB=test
backfill_redis_password=${DEMO_REDIS_PASSWORD-$SERVICE_REDIS_PASSWORD}
read -r -a extra_args <<<"${DEMO_BACKFILL_ARGS:-}"

step="setting up"
say() {
    step=$1
    printf '\n\033[1m== %s\033[0m\n' "$1"
}
fail() {
    printf '\nFAILED: %s: %s\n' "$step" "$1" >&2
    exit 1
}
trap 'fail "\`${BASH_COMMAND}\` exited with status $? (harness/demo.sh line $LINENO)"' ERR

replay_pid=
cleanup() {
    if [ -n "$replay_pid" ]; then kill "$replay_pid" 2>/dev/null || true; fi
    harness/services.sh stop "$state/services" >/dev/null 2>&1 || true
}
trap cleanup EXIT

redis() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" -a "$SERVICE_REDIS_PASSWORD" --no-auth-warning "$@"; }
sql() { mariadb --no-defaults -h127.0.0.1 -P"$MYSQL_PORT" -u"$MYSQL_USER" -p"$MYSQL_PASSWORD" "$MYSQL_DB" "$@"; }
admin() { "${check[@]}" admin "$rekor" "$1" "$2"; }

# Runs rekor-backfill; its exit status must be 3 and --failed-entries must
# list exactly the entries that cannot be indexed (one corpus entry is a
# negative test fixture that Rekor's own code rejects too): anything else is
# a failed step. Also checks that exactly FIRST..LAST were fetched, after the
# failure records of earlier runs (indices below RECORDED_BELOW whose entry
# cannot be indexed): every run retries those first.
backfill() {
    local first=$1 last=$2 recorded_below=$3
    shift 3
    local failed="$state/failed-$first-$last.jsonl" status=0
    rm -f "$failed"
    admin reset-stats '{}'
    echo "\$ rekor-backfill $*"
    "$bin" "$@" "${extra_args[@]}" --failed-entries "$failed" || status=$?
    echo "exit status $status$([ "$status" = 3 ] && echo ": finished, some entries cannot be indexed (expected here)")"
    case $status in
    0 | 3) ;;
    *) fail "rekor-backfill exited with status $status (README.md, \"Exit statuses\")" ;;
    esac
    "${check[@]}" served "$rekor" "$first" "$last" "$corpus" "$state/corpus-keys.jsonl" "$recorded_below" ||
        fail "it did not fetch log indices $first..$last (and the recorded failures below $recorded_below first)"
    "${check[@]}" failed "$corpus" "$state/corpus-keys.jsonl" "$first" "$last" "$failed" ||
        fail "the entries it could not index are not the expected ones"
    [ "$status" = 3 ] || fail "exit status $status, expected 3: some entries of $first..$last cannot be indexed"
}

check_redis() {
    "${check[@]}" redis "$corpus" "$state/corpus-keys.jsonl" "$1" "$rekor" "$REDIS_PORT" "$SERVICE_REDIS_PASSWORD" ||
        fail "the Redis index is not what the entries of 0..$(($1 - 1)) give"
    "${check[@]}" redis-checkpoint "$REDIS_PORT" "$SERVICE_REDIS_PASSWORD" default 0 "$(($1 - 1))" ||
        fail "wrong Redis checkpoint"
}

say "Building (cargo build --release)"
cargo build --release --workspace --quiet

say "Starting private Redis (port $REDIS_PORT) and MariaDB (port $MYSQL_PORT)"
mkdir -p "$state"
harness/services.sh start "$state/services"
redis FLUSHALL >/dev/null
sql -e 'DROP TABLE IF EXISTS EntryIndex, BackfillCheckpoint, BackfillFailedEntry, BackfillLease'
echo "Redis and MySQL are empty: no search finds anything yet."

say "A Rekor log of 1,500 entries ($(wc -l <"$corpus") real bodies, replayed as distinct entries)"
"$bin" keys <"$corpus" >"$state/corpus-keys.jsonl"
target/release/replay-rekor --corpus "$corpus" --listen 127.0.0.1:0 --size 1500 --record \
    >"$state/replay.out" 2>&1 &
replay_pid=$!
rekor=
for _ in $(seq 100); do
    rekor=$(sed -n 's/^listening on //p' "$state/replay.out")
    [ -n "$rekor" ] && break
    sleep 0.1
done
[ -n "$rekor" ] || fail "replay-rekor did not start: $(cat "$state/replay.out")"
echo "replay Rekor at $rekor"

say "Backfill into Redis, 4 workers, checkpoint every 100 entries"
export REDIS_PASSWORD=$backfill_redis_password
backfill 0 1499 0 --rekor-address "$rekor" --redis-hostname 127.0.0.1 --redis-port "$REDIS_PORT" \
    --concurrency 4 --checkpoint-interval 100
check_redis 1500

say "The log grows to 2,000 entries; the same command resumes from the checkpoint"
admin size '{"size":2000}'
backfill 1500 1999 1500 --rekor-address "$rekor" --redis-hostname 127.0.0.1 --redis-port "$REDIS_PORT" \
    --concurrency 4 --checkpoint-interval 100
check_redis 2000

say "The same command again: nothing new to do (what a nightly cron job sees)"
echo "Only the recorded failures are fetched again: every run retries them first, so an upgrade"
echo "that can index them clears them (README, \"Failure records\")."
admin reset-stats '{}'
echo "\$ rekor-backfill --rekor-address $rekor --redis-hostname 127.0.0.1 --redis-port $REDIS_PORT"
status=0
"$bin" --rekor-address "$rekor" --redis-hostname 127.0.0.1 --redis-port "$REDIS_PORT" \
    "${extra_args[@]}" || status=$?
echo "exit status $status"
[ "$status" = 0 ] || fail "exit status $status, expected 0"
"${check[@]}" served "$rekor" 1 0 "$corpus" "$state/corpus-keys.jsonl" 2000 ||
    fail "it fetched entries again (other than the recorded failures, retried on every run)"
unset REDIS_PASSWORD

say "Backfill into MySQL (Go DSN syntax, password from the environment)"
MYSQL_DSN="$MYSQL_USER:$MYSQL_PASSWORD@tcp(127.0.0.1:$MYSQL_PORT)/$MYSQL_DB" \
    backfill 0 1999 0 --rekor-address "$rekor" --concurrency 4
"${check[@]}" mysql "$corpus" "$state/corpus-keys.jsonl" 2000 "$rekor" "$MYSQL_PORT" \
    "$MYSQL_USER" "$MYSQL_PASSWORD" "$MYSQL_DB" >"$state/mysql-check.txt" ||
    fail "the MySQL index is not what the entries of 0..1999 give"
cat "$state/mysql-check.txt"
"${check[@]}" mysql-checkpoint "$MYSQL_PORT" "$MYSQL_USER" "$MYSQL_PASSWORD" "$MYSQL_DB" default 0 1999 \
    >"$state/mysql-checkpoint.txt" || fail "wrong MySQL checkpoint"
cat "$state/mysql-checkpoint.txt"

say "Outcome"
"${check[@]}" redis "$corpus" "$state/corpus-keys.jsonl" 2000 "$rekor" "$REDIS_PORT" \
    "$SERVICE_REDIS_PASSWORD" --searches >"$state/outcome.txt" || fail "the Redis index changed"
echo "Entries indexed:"
head -n 1 "$state/outcome.txt" | sed 's/^/  /'
head -n 1 "$state/mysql-check.txt" | sed 's/^/  /'
echo "Searches that now succeed (the keys rekor-server looks up; Redis and MySQL return the"
echo "same entries, checked down to the UUIDs):"
tail -n +2 "$state/outcome.txt"
echo "Checkpoints (the next run starts at 2000):"
"${check[@]}" redis-checkpoint "$REDIS_PORT" "$SERVICE_REDIS_PASSWORD" default 0 1999 | sed 's/^/  /'
sed 's/^/  /' "$state/mysql-checkpoint.txt"
echo "Not indexed: $(wc -l <"$state/failed-0-1999.jsonl") of the 2,000 log indices (exit status 3), each a replay of"
"${check[@]}" explain "$corpus" "$state/corpus-keys.jsonl" | sed 's/^/  /'
echo "  Rekor's own Go code cannot compute its keys either (make parity)."
echo
echo "demo: all steps passed"
