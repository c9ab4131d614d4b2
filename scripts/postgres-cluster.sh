#!/usr/bin/env bash
# A private PostgreSQL cluster on loopback for tests, the replica script and the README's commands.
#
#   scripts/postgres-cluster.sh start [DIR] [PORT]   # initdb on first use, start, create database `stelltron`
#   scripts/postgres-cluster.sh stop  [DIR]
#   scripts/postgres-cluster.sh database URL PREFIX   # a fresh database PREFIX_<time> on URL's server; prints its URL
#
# Debian's `postgresql` package (apt-get install -y postgresql) provides the binaries. The cluster
# belongs to the `postgres` system user when run as root (PostgreSQL refuses to run as root), to
# the caller otherwise; it listens on 127.0.0.1 only, with `trust` authentication for loopback —
# a throwaway cluster, not a production setup. Prints the URL to pass as `--database`.
set -euo pipefail
action=${1:?usage: postgres-cluster.sh start|stop [DIR] [PORT] | database URL PREFIX}
if [ "$action" = database ]; then
    # For the benchmarks and the replica script: each run on an empty database of its own.
    server=${2:?usage: postgres-cluster.sh database URL PREFIX}
    name="${3:?usage: postgres-cluster.sh database URL PREFIX}_$(date +%s%N)"
    psql -q "$server" -c "CREATE DATABASE $name"
    echo "${server%/*}/$name"
    exit 0
fi
dir=${2:-/tmp/stelltron-pg}
port=${3:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "postgresql is not installed: apt-get install -y postgresql" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
start)
    if [ ! -f "$dir/PG_VERSION" ]; then
        mkdir -p "$dir"
        [ "$(id -u)" = 0 ] && chown postgres "$dir"
        as_owner "$bin/initdb" -D "$dir" -U postgres --auth=trust --no-sync -E UTF8 >/dev/null
    fi
    if as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
        running=$(sed -n 4p "$dir/postmaster.pid")
        if [ "$running" != "$port" ]; then
            echo "the cluster in $dir already runs on port $running, not $port: stop it first (postgres-cluster.sh stop $dir)" >&2
            exit 1
        fi
    else
        # fsync stays on: the replica script's SIGKILL case counts on acknowledged commits surviving.
        as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w start \
            -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=1000" >/dev/null
    fi
    "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'stelltron'" | grep -q 1 \
        || "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres stelltron
    echo "postgres://postgres@127.0.0.1:$port/stelltron"
    ;;
stop)
    as_owner "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true
    ;;
*)
    echo "usage: postgres-cluster.sh start|stop [DIR] [PORT] | database URL PREFIX" >&2; exit 2
    ;;
esac
