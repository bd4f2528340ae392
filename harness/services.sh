#!/usr/bin/env bash
# Private Redis and MariaDB instances for the integration tests, on loopback
# and non-standard ports, with all state in one directory, stopped by PID.
# Never touches system services. The MariaDB user and database are created
# as `test`/`zaphod`/`test`, the Redis password is `test` (see `env`).
#
# Usage: harness/services.sh COMMAND [DIR]
#   start | stop | restart | status | env
#   start-redis | stop-redis | restart-redis
#   start-mysql | stop-mysql | restart-mysql
# DIR defaults to $REPO/.harness/services (git-ignored).
# Ports: REDIS_PORT (default 16379) and MYSQL_PORT (default 13306), read when
# a service starts and remembered in DIR, so `env` and `status` report the
# ports actually in use. Typical use:
#   harness/services.sh start && eval "$(harness/services.sh env)" && cargo test
set -euo pipefail

readonly REDIS_PASSWORD=test
readonly MYSQL_USER=test MYSQL_PASSWORD=zaphod MYSQL_DATABASE=test
readonly START_TIMEOUT=${SERVICES_START_TIMEOUT:-60} # seconds
readonly STOP_TIMEOUT=${SERVICES_STOP_TIMEOUT:-30}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command=${1:-}
dir=${2:-$repo/.harness/services}

die() { echo "services.sh: $*" >&2; exit 1; }
log() { echo "services.sh: $*" >&2; }

need() {
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 ||
            die "$tool not found; install with: apt-get install -y redis-server mariadb-server"
    done
}

# The port a service uses: the one it was started with, else the env/default.
redis_port() { cat "$dir/redis.port" 2>/dev/null || echo "${REDIS_PORT:-16379}"; }
mysql_port() { cat "$dir/mysql.port" 2>/dev/null || echo "${MYSQL_PORT:-13306}"; }

# Prints the PID from a pid file if that process is alive.
live_pid() {
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# Stops the process of a pid file: TERM, wait, then KILL.
stop_pid() {
    local name=$1 pidfile=$2 pid waited=0
    if ! pid=$(live_pid "$pidfile"); then
        log "$name: not running"
        rm -f "$pidfile"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do
        if ((waited >= STOP_TIMEOUT * 10)); then
            log "$name: pid $pid ignored SIGTERM for ${STOP_TIMEOUT}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    rm -f "$pidfile"
    log "$name: stopped (pid $pid)"
}

redis_cli() {
    redis-cli -h 127.0.0.1 -p "$(redis_port)" -a "$REDIS_PASSWORD" --no-auth-warning "$@"
}

# True if OUR redis (the pid in the pid file) answers on the port.
redis_ready() {
    local pid
    pid=$(live_pid "$dir/redis.pid") || return 1
    [[ $(redis_cli info server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p') == "$pid" ]]
}

start_redis() {
    need redis-server redis-cli
    mkdir -p "$dir/redis"
    if redis_ready; then
        log "redis: already running (pid $(live_pid "$dir/redis.pid"), port $(redis_port))"
        return 0
    fi
    local port=${REDIS_PORT:-$(redis_port)}
    echo "$port" >"$dir/redis.port"
    rm -f "$dir/redis.pid"
    nohup redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --requirepass "$REDIS_PASSWORD" --daemonize no --pidfile "$dir/redis.pid" \
        --dir "$dir/redis" --logfile "$dir/redis.log" </dev/null >>"$dir/redis.log" 2>&1 &
    local launcher=$! waited=0
    until redis_ready; do
        if ! kill -0 "$launcher" 2>/dev/null || ((waited >= START_TIMEOUT * 10)); then
            tail -n 5 "$dir/redis.log" >&2 || true
            kill -TERM "$launcher" 2>/dev/null || true
            rm -f "$dir/redis.port"
            die "redis: not ready on port $port (see $dir/redis.log; port in use?)"
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    log "redis: running (pid $(live_pid "$dir/redis.pid"), port $port)"
}

stop_redis() { stop_pid redis "$dir/redis.pid"; }

mysql_client() { "$(command -v mariadb || command -v mysql)" --no-defaults "$@"; }

mysql_root() { mysql_client -uroot --socket="$dir/mysql.sock" "$@"; }

# True if OUR mariadbd answers on its socket and the TCP port.
mysql_ready() {
    live_pid "$dir/mariadb.pid" >/dev/null || return 1
    mysql_root -e 'SELECT 1' >/dev/null 2>&1
}

start_mysql() {
    need mariadbd mariadb-install-db
    command -v mariadb >/dev/null 2>&1 || command -v mysql >/dev/null 2>&1 ||
        die "mariadb client not found; install with: apt-get install -y mariadb-client"
    mkdir -p "$dir"
    if mysql_ready; then
        log "mysql: already running (pid $(live_pid "$dir/mariadb.pid"), port $(mysql_port))"
        return 0
    fi
    local port=${MYSQL_PORT:-$(mysql_port)}
    echo "$port" >"$dir/mysql.port"
    local as_user=()
    if [[ $(id -u) == 0 ]]; then as_user=(--user=root); fi
    if [[ ! -d $dir/data/mysql ]]; then
        log "mysql: initialising $dir/data"
        mariadb-install-db --no-defaults --datadir="$dir/data" \
            --auth-root-authentication-method=normal "${as_user[@]}" \
            >"$dir/mariadb-install.log" 2>&1 ||
            { tail -n 20 "$dir/mariadb-install.log" >&2; die "mysql: mariadb-install-db failed"; }
    fi
    rm -f "$dir/mariadb.pid"
    nohup mariadbd --no-defaults --datadir="$dir/data" --socket="$dir/mysql.sock" \
        --port="$port" --bind-address=127.0.0.1 "${as_user[@]}" --skip-log-bin \
        --pid-file="$dir/mariadb.pid" --log-error="$dir/mariadb.log" \
        </dev/null >>"$dir/mariadb.log" 2>&1 &
    local launcher=$! waited=0
    until mysql_ready; do
        if ! kill -0 "$launcher" 2>/dev/null || ((waited >= START_TIMEOUT * 10)); then
            tail -n 5 "$dir/mariadb.log" >&2 || true
            kill -TERM "$launcher" 2>/dev/null || true
            rm -f "$dir/mysql.port"
            die "mysql: not ready on port $port (see $dir/mariadb.log; port in use?)"
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    # Anonymous users shadow 'test'@'%' for connections from localhost.
    # The grant on test_* lets tests create throw-away databases (e.g. to
    # prove a read-only run creates no table).
    mysql_root -e "
        DROP USER IF EXISTS ''@'localhost'; DROP USER IF EXISTS ''@'$(uname -n)';
        CREATE DATABASE IF NOT EXISTS $MYSQL_DATABASE;
        CREATE USER IF NOT EXISTS '$MYSQL_USER'@'%' IDENTIFIED BY '$MYSQL_PASSWORD';
        GRANT ALL ON $MYSQL_DATABASE.* TO '$MYSQL_USER'@'%';
        GRANT ALL ON \`${MYSQL_DATABASE}\\_%\`.* TO '$MYSQL_USER'@'%'; FLUSH PRIVILEGES;" ||
        die "mysql: creating user and database failed"
    mysql_client -h127.0.0.1 -P"$port" -u"$MYSQL_USER" -p"$MYSQL_PASSWORD" "$MYSQL_DATABASE" \
        -e 'SELECT 1' >/dev/null ||
        die "mysql: user $MYSQL_USER cannot log in over TCP on port $port"
    log "mysql: running (pid $(live_pid "$dir/mariadb.pid"), port $port)"
}

stop_mysql() { stop_pid mysql "$dir/mariadb.pid"; }

print_env() {
    local rp mp
    rp=$(redis_port)
    mp=$(mysql_port)
    cat <<EOF
export REKOR_BACKFILL_TEST_REDIS=127.0.0.1:$rp
export REKOR_BACKFILL_TEST_REDIS_PASSWORD=$REDIS_PASSWORD
export REKOR_BACKFILL_TEST_MYSQL_DSN='$MYSQL_USER:$MYSQL_PASSWORD@tcp(127.0.0.1:$mp)/$MYSQL_DATABASE?parseTime=true'
export REKOR_BACKFILL_TEST_REDIS_PORT=$rp
export REKOR_BACKFILL_TEST_MYSQL_PORT=$mp
export REKOR_BACKFILL_TEST_SERVICES_DIR='$dir'
EOF
}

status() {
    local ok=0 pid
    if redis_ready; then
        echo "redis: running (pid $(live_pid "$dir/redis.pid"), port $(redis_port))"
    else
        echo "redis: stopped"
        ok=3
    fi
    if mysql_ready; then
        echo "mysql: running (pid $(live_pid "$dir/mariadb.pid"), port $(mysql_port))"
    elif pid=$(live_pid "$dir/mariadb.pid"); then
        echo "mysql: not answering (pid $pid)"
        ok=3
    else
        echo "mysql: stopped"
        ok=3
    fi
    return $ok
}

case $command in
start) start_redis && start_mysql ;;
stop) stop_redis && stop_mysql ;;
restart) stop_redis && stop_mysql && start_redis && start_mysql ;;
status) status ;;
env) print_env ;;
start-redis) start_redis ;;
stop-redis) stop_redis ;;
restart-redis) stop_redis && start_redis ;;
start-mysql) start_mysql ;;
stop-mysql) stop_mysql ;;
restart-mysql) stop_mysql && start_mysql ;;
*)
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
