#!/usr/bin/env bash
# A private PostgreSQL cluster in DIR: no TCP, a unix socket in DIR/run, trust inside a socket
# directory only its owner can enter. Used by `make run` (./var) and the tests (a throwaway dir).
#   pg.sh DIR start   creates the cluster the first time, starts it, ensures role and db "tessera";
#                     prints the DATABASE_URL to use
#   pg.sh DIR stop    stops it (fast shutdown)
#   pg.sh DIR url     prints the DATABASE_URL
# As root the cluster belongs to the postgres account, since PostgreSQL refuses to run as root.
set -euo pipefail

dir=$(realpath -m "${1:?usage: pg.sh DIR start|stop|url}")
cmd=${2:?usage: pg.sh DIR start|stop|url}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/pg_ctl" ] || { echo "pg.sh: PostgreSQL server binaries not found (run scripts/deps.sh)" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url="postgresql:///tessera?host=$dir/run&user=tessera"

case "$cmd" in
url)
    echo "$url"
    ;;
start)
    mkdir -p "$dir"
    chmod 755 "$dir"
    if [ ! -s "$dir/data/PG_VERSION" ]; then
        mkdir -p "$dir/data" "$dir/run"
        [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/data" "$dir/run"
        chmod 700 "$dir/data" "$dir/run"
        as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=reject -E UTF8 \
            --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        [ "$(id -u)" -eq 0 ] && touch "$dir/postgres.log" && chown postgres: "$dir/postgres.log"
        as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
            -o "-c listen_addresses='' -k '$dir/run' -c unix_socket_permissions=0700 -c fsync=${PG_FSYNC:-on}" \
            start >/dev/null || { tail -n 20 "$dir/postgres.log" >&2; exit 1; }
    fi
    as_owner "$bin/psql" -h "$dir/run" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SELECT 'CREATE ROLE tessera LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tessera') \gexec
SELECT 'CREATE DATABASE tessera OWNER tessera' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'tessera') \gexec
SQL
    echo "$url"
    ;;
stop)
    if [ -s "$dir/data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    fi
    ;;
*)
    echo "usage: pg.sh DIR start|stop|url" >&2
    exit 2
    ;;
esac
