#!/usr/bin/env bash
# The demo (`make demo`): private Redis and MariaDB on loopback, a replay of
# real Rekor log entries (../shared/corpus, served at 2,000 log indices by
# harness/replay-rekor), and rekor-backfill filling both indexes, then
# resuming from its checkpoint after the log grows. Everything it starts is
# stopped on exit.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
state=$repo/.harness/demo
corpus=$repo/../shared/corpus/entries.jsonl
bin=$repo/target/release/rekor-backfill
export REDIS_PORT=${DEMO_REDIS_PORT:-16479} MYSQL_PORT=${DEMO_MYSQL_PORT:-13406}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
replay_pid=
cleanup() {
    [ -n "$replay_pid" ] && kill "$replay_pid" 2>/dev/null || true
    harness/services.sh stop "$state/services" >/dev/null 2>&1 || true
}
trap cleanup EXIT

[ -r "$corpus" ] || { echo "demo: $corpus is missing" >&2; exit 1; }
say "Building (cargo build --release)"
cargo build --release --workspace --quiet

say "Starting private Redis (port $REDIS_PORT) and MariaDB (port $MYSQL_PORT)"
mkdir -p "$state"
harness/services.sh start "$state/services"
eval "$(harness/services.sh env "$state/services")"
redis() { redis-cli -p "$REDIS_PORT" -a test --no-auth-warning "$@"; }
sql() { mariadb --no-defaults -h127.0.0.1 -P"$MYSQL_PORT" -utest -pzaphod test "$@"; }
redis FLUSHALL >/dev/null
sql -e 'DROP TABLE IF EXISTS EntryIndex, BackfillCheckpoint'

run_replay() {
    [ -n "$replay_pid" ] && kill "$replay_pid" 2>/dev/null && wait "$replay_pid" 2>/dev/null || true
    target/release/replay-rekor --corpus "$corpus" --listen 127.0.0.1:0 --size "$1" >"$state/replay.out" 2>&1 &
    replay_pid=$!
    for _ in $(seq 100); do
        rekor=$(sed -n 's/^listening on //p' "$state/replay.out")
        [ -n "$rekor" ] && return 0
        sleep 0.1
    done
    echo "demo: replay-rekor did not start" >&2
    exit 1
}

backfill() {
    echo "\$ rekor-backfill $*"
    set +e
    "$bin" "$@"
    local status=$?
    set -e
    echo "exit status $status"
}

say "A Rekor log of 1,500 entries (459 real bodies, replayed as distinct entries)"
run_replay 1500
echo "replay Rekor at $rekor"

say "Backfill into Redis, 4 workers, checkpoint every 100 entries"
backfill --rekor-address "$rekor" --redis-hostname 127.0.0.1 --redis-port "$REDIS_PORT" \
    --concurrency 4 --checkpoint-interval 100 --failed-entries "$state/failed.jsonl"
echo "checkpoint: $(redis GET rekor-backfill:checkpoint:default)"

say "The log grows to 2,000 entries; the same command resumes from the checkpoint"
run_replay 2000
backfill --rekor-address "$rekor" --redis-hostname 127.0.0.1 --redis-port "$REDIS_PORT" \
    --concurrency 4 --checkpoint-interval 100
echo "checkpoint: $(redis GET rekor-backfill:checkpoint:default)"

say "Searching the Redis index like rekor-server does (lowercased key -> UUIDs)"
first_keys=$(head -n 1 "$corpus" | "$bin" keys)
echo "keys of the first corpus entry: $first_keys"
key=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["keys"][-1].lower())' "$first_keys")
echo "\$ redis-cli LRANGE '$key' 0 -1"
redis LRANGE "$key" 0 -1
echo "Redis keys in the index: $(redis DBSIZE)"

say "Backfill into MySQL (Go DSN syntax, password from the environment)"
MYSQL_DSN="test:zaphod@tcp(127.0.0.1:$MYSQL_PORT)/test" \
    backfill --rekor-address "$rekor" --concurrency 4
sql -e 'SELECT COUNT(*) AS index_rows, COUNT(DISTINCT EntryUUID) AS entries FROM EntryIndex; SELECT * FROM BackfillCheckpoint'

say "Done"
echo "Exit status 3 above means some entries could not be indexed (listed in the"
echo "summary and in $state/failed.jsonl); 0 means every entry is searchable."
