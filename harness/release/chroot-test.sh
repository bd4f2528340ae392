#!/usr/bin/env bash
# The release binary on a host that has nothing but the binary: the demo's
# backfill (a replay of the corpus at 1,500 then 2,000 log indices, into
# Redis, then into MySQL) run inside a chroot whose only files are the
# binary, /etc/hosts, /etc/resolv.conf, /etc/nsswitch.conf and the CA
# certificates, with Rekor, Redis and MySQL addressed by host names: some from
# that /etc/hosts, some only from a DNS server (dnsmasq). The index it writes
# must equal the one the same binary writes from the host with 127.0.0.1.
#
# Usage: harness/release/chroot-test.sh BINARY
#        harness/release/chroot-test.sh --rootfs DIR [--exe PATH] [--user UID:GID] [--operator]
# The second form runs an unpacked image's own root filesystem instead
# (harness/image/test.sh): PATH is the binary inside DIR (default
# /usr/local/bin/rekor-backfill); /etc/hosts, resolv.conf and nsswitch.conf
# are written into DIR, as a container runtime would mount them. --operator
# then also runs the RHTAS operator's CronJob command, unchanged, with its
# /bin/sh, curl, sed and backfill-redis: Rekor at http://rekor-server (port
# 80) and a Redis without password at rekor-redis:6379, as in its cluster.
#
# Everything runs in a private network namespace (only its own loopback), so
# dnsmasq can answer on 127.0.0.1:53 and the services' ports are private.
# Needs root, unshare, chroot, ip, dnsmasq, cc, redis-server, mariadbd. State in
# CHROOT_TEST_DIR (default .harness/release/chroot-test).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"

if [ -z "${CHROOT_TEST_IN_NETNS:-}" ]; then
    for tool in unshare chroot ip dnsmasq; do
        command -v "$tool" >/dev/null || {
            echo "chroot-test: $tool not found (bash harness/install-deps.sh)" >&2
            exit 2
        }
    done
    [ "$(id -u)" = 0 ] || { echo "chroot-test: needs root (chroot, a network namespace)" >&2; exit 2; }
    exec env CHROOT_TEST_IN_NETNS=1 unshare --net -- "$0" "$@"
fi
ip link set lo up
chroot=$(command -v chroot)

state=${CHROOT_TEST_DIR:-$repo/.harness/release/chroot-test}
corpus=${CORPUS:-$repo/testdata/corpus/entries.jsonl}
replay_bin=${REPLAY_REKOR:-$repo/target/release/replay-rekor}
user=65532:65532
operator=
exe=/rekor-backfill
case ${1:-} in
--rootfs)
    root=$(cd "${2:?--rootfs DIR}" && pwd)
    shift 2
    exe=/usr/local/bin/rekor-backfill
    while (($#)); do
        case $1 in
        --exe) exe=$2 ;;
        --user) user=$2 ;;
        --operator) operator=1 && shift && continue ;;
        *) echo "chroot-test: unknown option $1" >&2; exit 2 ;;
        esac
        shift 2
    done
    ;;
'' | -*)
    sed -n '12,20p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
*)
    binary=$(realpath "$1")
    root=$state/root
    rm -rf "$root"
    mkdir -p "$root/etc/ssl/certs"
    cp "$binary" "$root$exe"
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
    ;;
esac
[ -x "$root$exe" ] || { echo "chroot-test: $root$exe is not an executable" >&2; exit 2; }
[ -r "$corpus" ] || { echo "chroot-test: $corpus is missing" >&2; exit 2; }
[ -x "$replay_bin" ] || cargo build --release --quiet -p replay-rekor

# The private namespace has its own ports: the defaults cannot collide.
export REDIS_PORT=16379 MYSQL_PORT=13306
services=$state/services
replay_pid= dns_pid= open_redis_pid=
cleanup() {
    [ -n "$replay_pid" ] && kill "$replay_pid" 2>/dev/null || true
    [ -n "$open_redis_pid" ] && kill "$open_redis_pid" 2>/dev/null || true
    [ -n "$dns_pid" ] && kill "$dns_pid" 2>/dev/null || true
    harness/services.sh stop "$services" >/dev/null 2>&1 || true
}
trap cleanup EXIT
mkdir -p "$state"
harness/services.sh start "$services"
redis() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" -a test --no-auth-warning "$@"; }
sql() { mariadb --no-defaults -h127.0.0.1 -P"$MYSQL_PORT" -utest -pzaphod test "$@"; }

fail() { echo "chroot-test: FAIL: $*" >&2; exit 1; }

run_replay() { # SIZE [PORT]
    [ -n "$replay_pid" ] && kill "$replay_pid" 2>/dev/null && wait "$replay_pid" 2>/dev/null || true
    : >"$state/replay.out"
    "$replay_bin" --corpus "$corpus" --listen "127.0.0.1:${2:-0}" --size "$1" >"$state/replay.out" 2>&1 &
    replay_pid=$!
    for _ in $(seq 100); do
        rekor_port=$(sed -n 's/^listening on http:\/\/127\.0\.0\.1://p' "$state/replay.out")
        [ -n "$rekor_port" ] && return 0
        sleep 0.1
    done
    fail "replay-rekor did not start: $(cat "$state/replay.out")"
}

# Names: *.hosts.test only in the chroot's /etc/hosts, *.dns.test only in
# dnsmasq (which reads no hosts file and forwards nothing).
cat >"$root/etc/hosts" <<'HOSTS'
127.0.0.1 localhost
127.0.0.1 rekor.hosts.test redis.hosts.test mysql.hosts.test
HOSTS
echo "nameserver 127.0.0.1" >"$root/etc/resolv.conf"
echo "hosts: files dns" >"$root/etc/nsswitch.conf"
dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-dhcp-interface=lo \
    --listen-address=127.0.0.1 --bind-interfaces --port=53 --user=root \
    --pid-file="$state/dnsmasq.pid" --log-facility="$state/dnsmasq.log" --log-queries \
    --host-record=rekor.dns.test,127.0.0.1 --host-record=redis.dns.test,127.0.0.1 \
    --host-record=mysql.dns.test,127.0.0.1 &
dns_pid=$!

# Runs the binary inside the chroot as the image's user, with an empty
# environment apart from the Redis password; prints its status last.
in_chroot() {
    local status=0
    env -i REDIS_PASSWORD=test RUST_LOG=info "$chroot" --userspec="$user" "$root" "$exe" "$@" \
        >"$state/run.log" 2>&1 || status=$?
    tail -n 3 "$state/run.log" | sed 's/^/    /'
    echo "$status"
}
on_host() {
    local status=0
    REDIS_PASSWORD=test "$root$exe" "$@" >"$state/run.log" 2>&1 || status=$?
    echo "$status"
}

# Every index list, members sorted (LPUSH order depends on the workers), hashed.
index_lua="
local keys = redis.call('KEYS', '*')
table.sort(keys)
local parts = {}
for _, k in ipairs(keys) do
  if redis.call('TYPE', k).ok == 'list' then
    local m = redis.call('LRANGE', k, 0, -1)
    table.sort(m)
    parts[#parts + 1] = k .. '=' .. table.concat(m, ',')
  end
end
return #parts .. ' keys ' .. redis.sha1hex(table.concat(parts, '\\n'))"
redis_index() { redis EVAL "$index_lua" 0; }
# The same in the operator's Redis (no password, port 6379).
open_redis_index() { redis-cli -h 127.0.0.1 -p 6379 EVAL "$index_lua" 0; }
mysql_index() {
    sql -N -e "SET SESSION group_concat_max_len = 1 << 30;
        SELECT CONCAT(COUNT(*), ' rows ', SHA2(GROUP_CONCAT(CONCAT(EntryKey, ' ', EntryUUID)
        ORDER BY EntryKey, EntryUUID SEPARATOR '\n'), 256)) FROM EntryIndex"
}
redis_checkpoint() { redis GET rekor-backfill:checkpoint:default | sed -n 's/.*"lastCompletedIndex":\([0-9]*\).*/\1/p'; }
mysql_checkpoint() { sql -N -e "SELECT LastCompletedIndex FROM BackfillCheckpoint WHERE CheckpointKey = 'default'"; }
reset_backends() {
    redis FLUSHALL >/dev/null
    sql -e 'DROP TABLE IF EXISTS EntryIndex, BackfillCheckpoint, BackfillFailedEntry, BackfillLease'
}
expect_done() { # status checkpoint last what
    case $1 in 0 | 3) ;; *) fail "$4: exit status $1 ($(tail -n 2 "$state/run.log"))" ;; esac
    [ "$2" = "$3" ] || fail "$4: checkpoint at '$2', expected $3"
}

files=$(find "$root" -type f -o -type l | sed "s|^$root||" | sort)
if (($(wc -l <<<"$files") <= 20)); then
    echo "chroot: $(tr '\n' ' ' <<<"$files")"
else
    echo "chroot: $(wc -l <<<"$files") files"
fi
env -i "$chroot" --userspec="$user" "$root" "$exe" --version | sed 's/^/    /'

reset_backends
echo "== reference: the same binary from the host, Rekor/Redis/MySQL at 127.0.0.1, 2,000 indices"
run_replay 2000
ref_redis_status=$(on_host --rekor-address "http://127.0.0.1:$rekor_port" \
    --redis-hostname 127.0.0.1 --redis-port "$REDIS_PORT" --concurrency 4 --checkpoint-interval 100)
expect_done "$ref_redis_status" "$(redis_checkpoint)" 1999 "reference Redis run"
ref_mysql_status=$(MYSQL_DSN="test:zaphod@tcp(127.0.0.1:$MYSQL_PORT)/test" on_host \
    --rekor-address "http://127.0.0.1:$rekor_port" --concurrency 4)
expect_done "$ref_mysql_status" "$(mysql_checkpoint)" 1999 "reference MySQL run"
ref_redis=$(redis_index) ref_mysql=$(mysql_index)
echo "    exit statuses $ref_redis_status/$ref_mysql_status; Redis $ref_redis; MySQL $ref_mysql"
reset_backends

echo "== Redis by /etc/hosts names, log of 1,500 (rekor.hosts.test, redis.hosts.test)"
run_replay 1500
status=$(in_chroot --rekor-address "http://rekor.hosts.test:$rekor_port" \
    --redis-hostname redis.hosts.test --redis-port "$REDIS_PORT" --concurrency 4 --checkpoint-interval 100)
expect_done "$(tail -n 1 <<<"$status")" "$(redis_checkpoint)" 1499 "Redis by /etc/hosts"
echo "$status"

echo "== the log grows to 2,000; resume by DNS names (rekor.dns.test, redis.dns.test)"
run_replay 2000
status=$(in_chroot --rekor-address "http://rekor.dns.test:$rekor_port" \
    --redis-hostname redis.dns.test --redis-port "$REDIS_PORT" --concurrency 4 --checkpoint-interval 100)
expect_done "$(tail -n 1 <<<"$status")" "$(redis_checkpoint)" 1999 "Redis by DNS"
echo "$status"
grep -q 'Resuming from checkpoint: last completed index 1499' "$state/run.log" ||
    fail "the DNS run did not resume from the checkpoint"
got=$(redis_index)
[ "$got" = "$ref_redis" ] || fail "Redis index from the chroot ($got) differs from the host's ($ref_redis)"
echo "    Redis index equals the host run's: $got"

echo "== MySQL by DNS name (mysql.dns.test in the DSN)"
status=$(MYSQL_DSN= in_chroot --rekor-address "http://rekor.dns.test:$rekor_port" \
    --mysql-dsn "test:zaphod@tcp(mysql.dns.test:$MYSQL_PORT)/test" --concurrency 4)
expect_done "$(tail -n 1 <<<"$status")" "$(mysql_checkpoint)" 1999 "MySQL by DNS"
echo "$status"
got=$(mysql_index)
[ "$got" = "$ref_mysql" ] || fail "MySQL index from the chroot ($got) differs from the host's ($ref_mysql)"
echo "    MySQL index equals the host run's: $got"

echo "== MySQL by /etc/hosts name, nsswitch.conf naming modules the chroot lacks (Ubuntu's)"
echo "hosts: files mdns4_minimal [NOTFOUND=return] dns myhostname" >"$root/etc/nsswitch.conf"
status=$(in_chroot --rekor-address "http://rekor.dns.test:$rekor_port" \
    --mysql-dsn "test:zaphod@tcp(mysql.hosts.test:$MYSQL_PORT)/test")
[ "$(tail -n 1 <<<"$status")" = 0 ] || fail "rerun over a complete checkpoint: $status"
grep -qi 'nothing to do' "$state/run.log" || fail "rerun did not find the checkpoint: $(cat "$state/run.log")"
echo "$status"
echo "hosts: files dns" >"$root/etc/nsswitch.conf"

echo "== a foreign NSS module on the hosts: line is never loaded (src/hostnames.rs)"
# A module that kills whoever loads it (SIGILL): glibc would dlopen it for
# this line, as it would a host's libnss_mdns4_minimal built for another glibc.
mkdir -p "$root/lib/x86_64-linux-gnu"
printf 'int _nss_trap_%s(void) { __builtin_trap(); }\n' gethostbyname4_r gethostbyname3_r \
    gethostbyname2_r gethostbyname_r >"$state/nss_trap.c"
cc -shared -nostdlib -fPIC -o "$root/lib/x86_64-linux-gnu/libnss_trap.so.2" "$state/nss_trap.c"
echo "hosts: trap files dns" >"$root/etc/nsswitch.conf"
status=$(in_chroot --rekor-address "http://rekor.dns.test:$rekor_port" \
    --redis-hostname redis.hosts.test --redis-port "$REDIS_PORT")
[ "$(tail -n 1 <<<"$status")" = 0 ] || fail "with a foreign NSS module listed: $status"
rm "$root/lib/x86_64-linux-gnu/libnss_trap.so.2"
echo "hosts: files dns" >"$root/etc/nsswitch.conf"
echo "$status"

echo "== a name in neither /etc/hosts nor DNS is an error"
status=$(in_chroot --rekor-address "http://rekor.hosts.test:$rekor_port" \
    --redis-hostname nowhere.dns.test --redis-port "$REDIS_PORT" --rekor-retry-count 0)
[ "$(tail -n 1 <<<"$status")" != 0 ] || fail "an unknown Redis host name succeeded"
grep -q 'nowhere.dns.test' "$state/dnsmasq.log" || fail "the unknown name never reached the DNS server"
echo "$status"

if [ -n "$operator" ]; then
    # The command of the RHTAS operator's backfill-redis CronJob, verbatim.
    command='endIndex=$(curl -sS http://rekor-server/api/v1/log | sed -E '"'"'s/.*"treeSize":([0-9]+).*/\1/'"'"'); endIndex=$((endIndex-1)); if [ $endIndex -lt 0 ]; then echo "info: no rekor entries found"; exit 0; fi; backfill-redis --hostname=rekor-redis --port=6379 --rekor-address=http://rekor-server --start=0 --end=$endIndex'
    echo "== the RHTAS operator's CronJob command: /bin/sh -c '$command'"
    echo "127.0.0.1 rekor-server rekor-redis" >>"$root/etc/hosts"
    redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
        --dir "$state" --logfile "$state/open-redis.log" &
    open_redis_pid=$!
    for _ in $(seq 100); do redis-cli -p 6379 PING >/dev/null 2>&1 && break; sleep 0.1; done
    run_replay 2000 80
    path=$(python3 -c 'import json,sys; print(next(e[5:] for e in json.load(open(sys.argv[1]))["process"]["env"] if e.startswith("PATH=")))' \
        "$root/../config.json" 2>/dev/null || echo /usr/local/bin:/usr/bin:/bin)
    status=0
    env -i PATH="$path" "$chroot" --userspec="$user" "$root" /bin/sh -c "$command" >"$state/run.log" 2>&1 || status=$?
    tail -n 3 "$state/run.log" | sed 's/^/    /'
    echo "$status"
    case $status in 0 | 3) ;; *) fail "the operator's command: exit status $status" ;; esac
    got=$(open_redis_index)
    [ "$got" = "$ref_redis" ] || fail "the operator's command wrote $got, the host run $ref_redis"
    echo "    Redis index equals the host run's: $got"
fi

queries=$(grep -c 'query\[A\] [a-z]*\.dns\.test' "$state/dnsmasq.log" || true)
((queries > 0)) || fail "dnsmasq answered no query"
echo "chroot test passed ($queries DNS queries answered by dnsmasq)"
