#!/usr/bin/env bash
# A real Rekor stack on loopback, without Docker: a private MariaDB (Trillian's
# tables + a search-index database), a private Redis, trillian_log_server,
# trillian_log_signer and rekor-server (search index on Redis or MySQL,
# attestation storage on a file:// bucket). Every process runs from the
# binaries of build.sh, listens on 127.0.0.1 on private ports, keeps its data
# and log in one state directory, and is stopped by the PID this script
# recorded (never by name).
#
# usage:
#   stack.sh up [redis|mysql]       start everything (default backend: redis);
#                                   on any failure, stops what it started
#   stack.sh down                   stop everything (reverse order, TERM then KILL)
#   stack.sh status                 what runs, where
#   stack.sh env                    shell exports for the running stack (eval it)
#   stack.sh run [redis|mysql] -- CMD [ARGS...]
#                                   up, run CMD with the env exported, always
#                                   down; exits with CMD's status
#   stack.sh restart SERVICE        stop SERVICE (TERM, by PID) and start it
#                                   again with the same settings and data dir
#                                   (redis: its data is lost, nothing is
#                                   persisted); SERVICE is one of redis,
#                                   mariadb, trillian_log_server,
#                                   trillian_log_signer, rekor-server,
#                                   redis-go, rekor-server-go
#   stack.sh rotate                 shard the log once, as an operator does:
#                                   a new Trillian tree becomes the active
#                                   one, the current tree is listed as
#                                   inactive in $STACK_DIR/sharding.yaml, and
#                                   rekor-server restarts with
#                                   --trillian_log_server.tlog_id=<new> and
#                                   --trillian_log_server.sharding_config
#                                   (rekor-server-go, the shadow, stays on
#                                   its tree until restarted)
#
# environment (all optional):
#   STACK_DIR         state dir (default: a new mktemp dir on `up`; later
#                     commands find it through $REPO/.harness/stack.current)
#   STACK_KEEP=1      `down` keeps the state dir (default: removed; a failed
#                     `up` always keeps it, with the logs)
#   STACK_TIMEOUT     seconds per health check (default 60)
#   REDIS_PORT=27379  MYSQL_PORT=24306  REKOR_PORT=23000
#   TRILLIAN_SERVER_RPC=28090 TRILLIAN_SERVER_HTTP=28091
#   TRILLIAN_SIGNER_RPC=28190 TRILLIAN_SIGNER_HTTP=28191
#   STACK_BIN         where the binaries are (default $REPO/.harness/bin)
#   STACK_SHADOW=1    `up` also starts a shadow index for a second tool: a
#                     second Redis (REDIS_GO_PORT=27380), a MariaDB database
#                     rekor_index_go, and a second rekor-server
#                     (REKOR_GO_PORT=23001, same tree) whose search index is
#                     that shadow store, so searches can be replayed against
#                     an index the Go backfill-index wrote side by side
#   STACK_RESTART_PAUSE  seconds `restart` keeps the service down (default 0)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(git -C "$here" rev-parse --show-toplevel)"
bin="${STACK_BIN:-$repo/.harness/bin}"
schema="$repo/.harness/share/trillian-storage.sql"
pointer="$repo/.harness/stack.current"

REDIS_PORT="${REDIS_PORT:-27379}"
MYSQL_PORT="${MYSQL_PORT:-24306}"
REKOR_PORT="${REKOR_PORT:-23000}"
TRILLIAN_SERVER_RPC="${TRILLIAN_SERVER_RPC:-28090}"
TRILLIAN_SERVER_HTTP="${TRILLIAN_SERVER_HTTP:-28091}"
TRILLIAN_SIGNER_RPC="${TRILLIAN_SIGNER_RPC:-28190}"
TRILLIAN_SIGNER_HTTP="${TRILLIAN_SIGNER_HTTP:-28191}"
REDIS_GO_PORT="${REDIS_GO_PORT:-27380}"
REKOR_GO_PORT="${REKOR_GO_PORT:-23001}"
TIMEOUT="${STACK_TIMEOUT:-60}"

# Test-only credentials of throwaway private instances; never real secrets.
REDIS_PASSWORD=stackpass
MYSQL_USER=rekor
MYSQL_PASSWORD=zaphod
TRILLIAN_DB=trillian
# Not `index`: that is a reserved word in MySQL and would need quoting in every
# statement; the name does not matter to rekor or the backfill tools.
INDEX_DB=rekor_index
INDEX_GO_DB=rekor_index_go

# Start order; `down` stops in reverse.
# The shadow services (redis-go, rekor-server-go) run only with STACK_SHADOW=1.
services=(metrics-guard redis redis-go mariadb trillian_log_server trillian_log_signer rekor-server rekor-server-go)

log() { echo "stack: $*" >&2; }
die() { log "$*"; exit 1; }

# ---------------------------------------------------------------- state dir

resolve_dir() {
    if [ -n "${STACK_DIR:-}" ]; then dir="$STACK_DIR"
    elif [ -f "$pointer" ]; then dir="$(cat "$pointer")"
    else dir=""; fi
}

# ---------------------------------------------------------------- processes

# proc_start PID: the process's start time (clock ticks since boot, field 22
# of /proc/PID/stat). PID plus start time identifies one process for good,
# so a PID reused by an unrelated process is never signalled.
proc_start() {
    local s
    s="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    s="${s##*) }"   # drop "pid (comm) ", comm may contain spaces
    # shellcheck disable=SC2086
    set -- $s
    echo "${20}"
}

# pid_of NAME: the recorded PID if that process is still the one we started
# and has not exited (a zombie counts as exited).
pid_of() {
    local f="$dir/pids/$1.pid" pid start state
    [ -f "$f" ] || return 1
    read -r pid start <"$f" || return 1
    [ -n "$pid" ] && [ "$(proc_start "$pid")" = "$start" ] || return 1
    state="$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)"
    [ "$state" != Z ] || return 1
    echo "$pid"
}

# spawn NAME CMD...: start CMD in its own session (so a Ctrl-C in the
# calling terminal does not reach it), output appended to logs/NAME.log
# (appended, so a restart keeps the earlier log).
spawn() {
    local name="$1" pid; shift
    setsid "$@" >>"$dir/logs/$name.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid $(proc_start "$pid")" >"$dir/pids/$name.pid"
}

stop_one() {
    local name="$1" pid i
    pid="$(pid_of "$name")" || { rm -f "$dir/pids/$name.pid"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
        pid_of "$name" >/dev/null || break
        sleep 0.1
    done
    if pid_of "$name" >/dev/null; then
        log "$name (pid $pid) ignored TERM for 15s, sending KILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true   # reaps it when this shell started it
    rm -f "$dir/pids/$name.pid"
    log "stopped $name (pid $pid)"
}

stop_all() {
    local i
    for ((i = ${#services[@]} - 1; i >= 0; i--)); do stop_one "${services[$i]}"; done
}

# wait_for NAME DESCRIPTION COMMAND...: poll COMMAND until it succeeds, the
# process NAME dies, or TIMEOUT seconds pass.
wait_for() {
    local name="$1" what="$2"; shift 2
    local deadline=$((SECONDS + TIMEOUT))
    until "$@" >/dev/null 2>&1; do
        if ! pid_of "$name" >/dev/null; then
            log "$name died while waiting for $what; last log lines:"
            tail -n 25 "$dir/logs/$name.log" >&2 || true
            return 1
        fi
        if ((SECONDS >= deadline)); then
            log "timeout (${TIMEOUT}s) waiting for $what; last log lines of $name:"
            tail -n 25 "$dir/logs/$name.log" >&2 || true
            return 1
        fi
        sleep 0.2
    done
    log "$name ready ($what)"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_taken() { ! port_free "$1"; }

http_body_is() { # URL EXPECTED
    [ "$(curl -fsS --max-time 2 "$1")" = "$2" ]
}
http_ok() { curl -fsS --max-time 2 -o /dev/null "$1"; }

# ---------------------------------------------------------------- services

sql_root() { mariadb --no-defaults --protocol=socket -uroot --socket="$dir/mariadb/sock" "$@"; }

# rekor-server always starts a Prometheus listener on ":2112" (all
# interfaces, hard-coded in cmd/rekor-server/app/serve.go, error ignored).
# Holding 127.0.0.1:2112 first makes that wildcard bind fail, so nothing of
# the stack listens beyond loopback. Skipped when 2112 is already taken
# (e.g. by another stack's guard): then rekor's bind fails just the same.
start_metrics_guard() {
    # A bind, not a connect: another stack's guard never accepts, so once
    # its backlog is full a connect fails as if nothing listened.
    if ! python3 -c 'import socket; socket.socket().bind(("127.0.0.1", 2112))' 2>/dev/null; then
        log "port 2112 already taken; rekor-server's wildcard metrics listener will fail to bind (good)"
        return 0
    fi
    spawn metrics-guard python3 -c '
import signal, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 2112))
s.listen(1)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
signal.pause()' "$dir"
    wait_for metrics-guard "127.0.0.1:2112 held" port_taken 2112
}

# start_redis [NAME PORT]: redis (default) or the shadow redis-go.
start_redis() {
    local name="${1:-redis}" port="${2:-$REDIS_PORT}"
    mkdir -p "$dir/$name"
    spawn "$name" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --requirepass "$REDIS_PASSWORD" --daemonize no --dir "$dir/$name" \
        --unixsocket "$dir/$name/sock"
    wait_for "$name" "PING on 127.0.0.1:$port" \
        sh -c "[ \"\$(redis-cli -h 127.0.0.1 -p $port -a '$REDIS_PASSWORD' --no-auth-warning ping)\" = PONG ]"
}

# run_mariadb: start mariadbd on the existing data dir (also a restart).
run_mariadb() {
    spawn mariadb mariadbd --no-defaults --datadir="$dir/mariadb/data" --socket="$dir/mariadb/sock" \
        --port="$MYSQL_PORT" --bind-address=127.0.0.1 --user=root --skip-log-bin \
        --pid-file="$dir/mariadb/mariadbd.pid" --log-error="$dir/logs/mariadb.err"
    wait_for mariadb "SELECT 1 on its socket" sql_root -e 'select 1'
}

start_mariadb() {
    mariadb-install-db --no-defaults --datadir="$dir/mariadb/data" \
        --auth-root-authentication-method=normal >"$dir/logs/mariadb-install.log" 2>&1 \
        || { tail -n 20 "$dir/logs/mariadb-install.log" >&2; die "mariadb-install-db failed"; }
    run_mariadb
    # The anonymous users of mariadb-install-db shadow '<user>'@'%' for
    # connections from localhost: drop them.
    sql_root -e "
        DROP USER IF EXISTS ''@'localhost'; DROP USER IF EXISTS ''@'$(uname -n)';
        CREATE DATABASE $TRILLIAN_DB; CREATE DATABASE $INDEX_DB;
        CREATE USER '$MYSQL_USER'@'%' IDENTIFIED BY '$MYSQL_PASSWORD';
        GRANT ALL ON $TRILLIAN_DB.* TO '$MYSQL_USER'@'%';
        GRANT ALL ON $INDEX_DB.* TO '$MYSQL_USER'@'%';
        CREATE DATABASE $INDEX_GO_DB; GRANT ALL ON $INDEX_GO_DB.* TO '$MYSQL_USER'@'%';
        FLUSH PRIVILEGES;"
    sql_root "$TRILLIAN_DB" <"$schema"
    log "mariadb: databases $TRILLIAN_DB (Trillian schema) and $INDEX_DB created"
}

trillian_dsn() { echo "$MYSQL_USER:$MYSQL_PASSWORD@tcp(127.0.0.1:$MYSQL_PORT)/$TRILLIAN_DB?parseTime=true&interpolateParams=true"; }
index_dsn() { echo "$MYSQL_USER:$MYSQL_PASSWORD@tcp(127.0.0.1:$MYSQL_PORT)/${1:-$INDEX_DB}?parseTime=true&interpolateParams=true"; }

# start_trillian_one NAME: trillian_log_server or trillian_log_signer.
start_trillian_one() {
    local name="$1" rpc http extra=()
    if [ "$name" = trillian_log_server ]; then rpc=$TRILLIAN_SERVER_RPC http=$TRILLIAN_SERVER_HTTP
    else rpc=$TRILLIAN_SIGNER_RPC http=$TRILLIAN_SIGNER_HTTP extra=(--force_master); fi
    # --log_dir keeps any klog file output inside the state dir (logtostderr
    # is the default, so normally everything goes to logs/NAME.log).
    spawn "$name" "$bin/$name" --quota_system=noop --storage_system=mysql \
        --mysql_uri="$(trillian_dsn)" --log_dir="$dir/logs" "${extra[@]}" \
        --rpc_endpoint="127.0.0.1:$rpc" --http_endpoint="127.0.0.1:$http"
    wait_for "$name" "GET /healthz on :$http" http_body_is "http://127.0.0.1:$http/healthz" ok
}

start_trillian() {
    start_trillian_one trillian_log_server
    start_trillian_one trillian_log_signer
}

rekor_log_ok() { curl -fsS --max-time 5 "http://127.0.0.1:$1/api/v1/log" | grep -q '"treeSize"'; }

# start_rekor BACKEND [shadow]: rekor-server, or with `shadow` the second
# server rekor-server-go whose index is the shadow store (redis-go or
# rekor_index_go); it is meant for searches only.
start_rekor() {
    local backend="$1" name=rekor-server port="$REKOR_PORT" rport="$REDIS_PORT" db="$INDEX_DB" idx=()
    if [ "${2:-}" = shadow ]; then
        name=rekor-server-go port="$REKOR_GO_PORT" rport="$REDIS_GO_PORT" db="$INDEX_GO_DB"
    fi
    if [ "$backend" = redis ]; then
        idx=(--search_index.storage_provider=redis --redis_server.address=127.0.0.1
             --redis_server.port="$rport" --redis_server.password="$REDIS_PASSWORD")
    else
        idx=(--search_index.storage_provider=mysql --search_index.mysql.dsn="$(index_dsn "$db")")
    fi
    # --config points at an empty file so a ~/.rekor-server.yaml cannot leak in.
    : >"$dir/rekor-server.yaml"
    # The tree id is remembered so that a restart of rekor-server on the same
    # state dir reuses the tree instead of creating a new, empty one.
    local tree=()
    [ -s "$dir/tree_id" ] && tree=(--trillian_log_server.tlog_id="$(cat "$dir/tree_id")")
    # After `rotate`: the inactive shards (rekor's pkg/sharding LogRange list).
    [ -s "$dir/sharding.yaml" ] && tree+=(--trillian_log_server.sharding_config="$dir/sharding.yaml")
    spawn "$name" env HOME="$dir/home" "$bin/rekor-server" serve --config="$dir/rekor-server.yaml" \
        --trillian_log_server.address=127.0.0.1 --trillian_log_server.port="$TRILLIAN_SERVER_RPC" \
        "${tree[@]}" \
        --rekor_server.address=127.0.0.1 --port="$port" --rekor_server.signer=memory \
        --rekor_server.hostname=rekor-stack.local --graceful-timeout=2s --log_type=dev \
        --enable_attestation_storage --attestation_storage_bucket="file://$dir/attestations" \
        "${idx[@]}"
    # /ping is chi's Heartbeat: 200 with body "." once the HTTP server runs.
    wait_for "$name" "GET /ping on :$port" http_ok "http://127.0.0.1:$port/ping"
    wait_for "$name" "GET /api/v1/log" rekor_log_ok "$port"
    local id
    id="$(grep -o 'Starting Rekor server with active tree [0-9]*' "$dir/logs/$name.log" | tail -n1 | awk '{print $NF}')"
    if [ -n "$id" ] && [ ! -s "$dir/tree_id" ]; then echo "$id" >"$dir/tree_id"; fi
}

# tree_ids: every tree of the log, oldest first, comma-separated (the
# inactive shards of `rotate`, then the active tree).
tree_ids() {
    { [ -f "$dir/inactive_trees" ] && cat "$dir/inactive_trees"; cat "$dir/tree_id" 2>/dev/null; } | paste -sd, -
}

# The MySQL settings are exported as STACK_MYSQL_*: the mariadb/mysql clients
# read MYSQL_HOST (and MYSQL_PWD, MYSQL_TCP_PORT) from the environment, so
# plain MYSQL_HOST would redirect every client of the calling shell.
write_env() {
    local backend="$1" v
    # The settings `restart` needs to start a service the same way again.
    for v in REDIS_PORT MYSQL_PORT REKOR_PORT TRILLIAN_SERVER_RPC TRILLIAN_SERVER_HTTP \
             TRILLIAN_SIGNER_RPC TRILLIAN_SIGNER_HTTP REDIS_GO_PORT REKOR_GO_PORT; do
        echo "$v='${!v}'"
    done >"$dir/ports"
    cat >"$dir/env" <<EOF
# written by harness/stack/stack.sh; source it
export STACK_DIR='$dir'
export STACK_BIN='$bin'
export STACK_BACKEND='$backend'
export REKOR_URL='http://127.0.0.1:$REKOR_PORT'
export REKOR_PORT='$REKOR_PORT'
export REDIS_HOST='127.0.0.1'
export REDIS_PORT='$REDIS_PORT'
export REDIS_PASSWORD='$REDIS_PASSWORD'
export STACK_MYSQL_HOST='127.0.0.1'
export STACK_MYSQL_PORT='$MYSQL_PORT'
export STACK_MYSQL_USER='$MYSQL_USER'
export STACK_MYSQL_PASSWORD='$MYSQL_PASSWORD'
export STACK_MYSQL_SOCKET='$dir/mariadb/sock'
export INDEX_DB='$INDEX_DB'
export INDEX_DSN='$(index_dsn)'
export STACK_SHADOW='${STACK_SHADOW:-0}'
export REKOR_GO_URL='http://127.0.0.1:$REKOR_GO_PORT'
export REDIS_GO_PORT='$REDIS_GO_PORT'
export INDEX_GO_DB='$INDEX_GO_DB'
export INDEX_GO_DSN='$(index_dsn "$INDEX_GO_DB")'
export TRILLIAN_DB='$TRILLIAN_DB'
export TREE_ID='$(cat "$dir/tree_id" 2>/dev/null || true)'
export TRILLIAN_TREE_IDS='$(tree_ids)'
EOF
}

# ---------------------------------------------------------------- commands

cmd_up() {
    local backend="${1:-redis}"
    case "$backend" in redis|mysql) ;; *) die "backend must be redis or mysql, not '$backend'";; esac
    for b in rekor-server trillian_log_server trillian_log_signer; do
        [ -x "$bin/$b" ] || die "missing $bin/$b: run harness/stack/build.sh first"
    done
    [ -r "$schema" ] || die "missing $schema: run harness/stack/build.sh first"
    for t in redis-server redis-cli mariadbd mariadb mariadb-install-db curl setsid; do
        command -v "$t" >/dev/null || die "missing tool: $t (harness/install-deps.sh)"
    done
    resolve_dir
    if [ -n "$dir" ] && [ -d "$dir/pids" ] && ls "$dir/pids"/*.pid >/dev/null 2>&1; then
        die "a stack seems to run in $dir (stack.sh down first, or set STACK_DIR)"
    fi
    local p
    local ports=("$REDIS_PORT" "$MYSQL_PORT" "$REKOR_PORT" "$TRILLIAN_SERVER_RPC" "$TRILLIAN_SERVER_HTTP"
                 "$TRILLIAN_SIGNER_RPC" "$TRILLIAN_SIGNER_HTTP")
    [ "${STACK_SHADOW:-0}" = 1 ] && ports+=("$REDIS_GO_PORT" "$REKOR_GO_PORT")
    for p in "${ports[@]}"; do
        port_free "$p" || die "port 127.0.0.1:$p is in use (set the *_PORT variables)"
    done

    dir="${STACK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/rekor-stack.XXXXXX")}"
    dir="$(cd "$dir" && pwd)"
    mkdir -p "$dir"/{pids,logs,redis,mariadb,attestations,home}
    mkdir -p "$(dirname "$pointer")"
    echo "$dir" >"$pointer"
    log "state dir $dir, index backend $backend"

    # Any failure from here on stops what was started.
    trap 'rc=$?; if [ $rc -ne 0 ]; then log "start failed, stopping what was started"; stop_all
          log "logs kept in $dir/logs (stack.sh down removes the dir)"; fi' EXIT
    local t0=$SECONDS
    start_metrics_guard
    start_redis
    [ "${STACK_SHADOW:-0}" = 1 ] && start_redis redis-go "$REDIS_GO_PORT"
    start_mariadb
    start_trillian
    start_rekor "$backend"
    [ "${STACK_SHADOW:-0}" = 1 ] && start_rekor "$backend" shadow
    write_env "$backend"
    trap - EXIT
    log "up in $((SECONDS - t0))s: rekor http://127.0.0.1:$REKOR_PORT (tree $(cat "$dir/tree_id" 2>/dev/null)), env in $dir/env"
}

cmd_down() {
    resolve_dir
    [ -n "$dir" ] && [ -d "$dir" ] || { log "no stack state dir found"; return 0; }
    stop_all
    if [ "${STACK_KEEP:-0}" = 1 ]; then
        log "state dir kept: $dir"
    else
        rm -rf "$dir"
        log "removed $dir"
    fi
    if [ -f "$pointer" ] && [ "$(cat "$pointer")" = "$dir" ]; then rm -f "$pointer"; fi
}

cmd_restart() {
    local name="${1:-}" backend
    resolve_dir
    [ -n "$dir" ] && [ -f "$dir/env" ] || die "no running stack (stack.sh up)"
    backend="$(sed -n "s/^export STACK_BACKEND='\(.*\)'$/\1/p" "$dir/env")"
    # shellcheck disable=SC1091
    . "$dir/ports"
    case "$name" in
        redis|mariadb|trillian_log_server|trillian_log_signer|rekor-server) ;;
        redis-go|rekor-server-go)
            grep -q "^export STACK_SHADOW='1'" "$dir/env" || die "$name runs only with STACK_SHADOW=1" ;;
        *) die "restart: unknown service '$name'" ;;
    esac
    local t0=$SECONDS
    stop_one "$name"
    sleep "${STACK_RESTART_PAUSE:-0}"
    case "$name" in
        redis) start_redis ;;
        redis-go) start_redis redis-go "$REDIS_GO_PORT" ;;
        mariadb) run_mariadb ;;
        trillian_log_server|trillian_log_signer) start_trillian_one "$name" ;;
        rekor-server) start_rekor "$backend" ;;
        rekor-server-go) start_rekor "$backend" shadow ;;
    esac
    log "restarted $name in $((SECONDS - t0))s"
}

# rotate: what an operator does to shard a Rekor log (rekor v1.5.4
# pkg/sharding): create a new tree, list the current one as inactive in the
# sharding config, restart rekor-server on the new tree. The new tree is
# created as the stack creates its first one (and as 6c does): rekor-server
# started without a tree ID creates and initialises one; it is then
# restarted with --trillian_log_server.tlog_id=<new> like any restart. An
# inactive shard's treeLength is informational: rekor reads the tree's size
# from Trillian (LogRanges.CompleteInitialization); signingConfig and
# grpcEndpoint are left out, so the active tree's signer and Trillian are
# used (here the memory signer: a new key per start, as for every restart).
cmd_rotate() {
    local backend old size t0=$SECONDS
    resolve_dir
    [ -n "$dir" ] && [ -f "$dir/env" ] || die "no running stack (stack.sh up)"
    backend="$(sed -n "s/^export STACK_BACKEND='\(.*\)'$/\1/p" "$dir/env")"
    # shellcheck disable=SC1091
    . "$dir/ports"
    old="$(cat "$dir/tree_id" 2>/dev/null)"
    [ -n "$old" ] || die "rotate: no active tree recorded in $dir/tree_id"
    size="$(curl -fsS --max-time 5 "http://127.0.0.1:$REKOR_PORT/api/v1/log" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["treeSize"])')" \
        || die "rotate: GET /api/v1/log failed"
    echo "$old" >>"$dir/inactive_trees"
    printf -- '- treeID: %s\n  treeLength: %s\n' "$old" "$size" >>"$dir/sharding.yaml"
    stop_one rekor-server
    mv "$dir/tree_id" "$dir/tree_id.$old"
    start_rekor "$backend"   # no tree ID: a new tree
    local new
    new="$(cat "$dir/tree_id" 2>/dev/null)"
    [ -n "$new" ] && [ "$new" != "$old" ] || die "rotate: rekor-server did not create a new tree"
    stop_one rekor-server
    start_rekor "$backend"   # --trillian_log_server.tlog_id=<new>, sharding config
    write_env "$backend"
    log "rotated in $((SECONDS - t0))s: active tree $new, inactive $(paste -sd, - <"$dir/inactive_trees") (sharding config $dir/sharding.yaml)"
}

cmd_status() {
    resolve_dir
    [ -n "$dir" ] && [ -d "$dir" ] || { echo "no stack"; return 1; }
    echo "state dir: $dir"
    local s pid rc=0
    for s in "${services[@]}"; do
        if pid="$(pid_of "$s")"; then echo "  $s: running (pid $pid)"
        else echo "  $s: not running"; rc=1; fi
    done
    [ -f "$dir/env" ] && grep -E 'REKOR_URL|STACK_BACKEND|TREE_ID' "$dir/env" | sed 's/^export /  /'
    return $rc
}

cmd_env() {
    resolve_dir
    [ -n "$dir" ] && [ -f "$dir/env" ] || die "no running stack (stack.sh up)"
    cat "$dir/env"
}

cmd_run() {
    local backend=redis
    if [ "${1:-}" = redis ] || [ "${1:-}" = mysql ]; then backend="$1"; shift; fi
    [ "${1:-}" = -- ] && shift
    [ $# -gt 0 ] || die "usage: stack.sh run [redis|mysql] -- CMD [ARGS...]"
    cmd_up "$backend"
    # Stop everything whatever happens; keep the state dir (logs) when the
    # command failed or STACK_KEEP=1.
    trap 'rc=$?; stop_all; rm -f "$pointer"
          if [ $rc -eq 0 ] && [ "${STACK_KEEP:-0}" != 1 ]; then rm -rf "$dir"
          else log "state dir kept: $dir"; fi' EXIT
    trap 'exit 130' INT TERM
    # shellcheck disable=SC1091
    (set -a; . "$dir/env"; "$@")
}

case "${1:-}" in
    up) shift; cmd_up "$@" ;;
    down) shift; cmd_down ;;
    status) cmd_status ;;
    env) cmd_env ;;
    run) shift; cmd_run "$@" ;;
    restart) shift; cmd_restart "$@" ;;
    rotate) cmd_rotate ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
