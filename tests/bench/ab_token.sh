#!/usr/bin/env bash
# Two Tessera builds against each other on the token path: not part of `make test`.
#
#   tests/bench/ab_token.sh BIN_A BIN_B [ROUNDS]
#
# One private PostgreSQL cluster (fsync on unless PG_FSYNC=off), a fresh database per run, the
# audit log on. Each round runs A, then B (the order reversed on even rounds): start the node (2 loop
# threads, rate limits off), warm up 3 s, then `wrk -t1 -c32 -d10s` of client_credentials with
# client_secret_basic, and stop it. Prints each run's req/s and the median per build (ROUNDS: 3),
# and checks that each run's audit chain verifies. For a change to the hot path, build the two
# commits in Release (for example with `git worktree`) and compare them in one invocation: figures
# from different invocations are not comparable on a shared 2-core machine.
set -euo pipefail

A=$(realpath "${1:?usage: ab_token.sh BIN_A BIN_B [ROUNDS]}")
B=$(realpath "${2:?usage: ab_token.sh BIN_A BIN_B [ROUNDS]}")
ROUNDS=${3:-3}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
PORT=${BENCH_PORT:-9390}
command -v wrk >/dev/null || { echo "ab_token.sh: wrk is missing (apt-get install wrk)" >&2; exit 1; }

PG_DIR=$(mktemp -d /tmp/tessera-ab.XXXXXX)
WORK=$(mktemp -d /tmp/tessera-ab-work.XXXXXX)
NODE=
cleanup() {
    [ -n "$NODE" ] && kill "$NODE" 2>/dev/null && wait "$NODE" 2>/dev/null
    "$TOP/scripts/pg.sh" "$PG_DIR" stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR" "$WORK"
}
trap cleanup EXIT
BASE_URL=$("$TOP/scripts/pg.sh" "$PG_DIR" start)
export TESSERA_KEY_ENCRYPTION_KEY=$(openssl rand -hex 32)
export TESSERA_RATE_LIMIT_CLIENT_RATE=0 TESSERA_RATE_LIMIT_ADDRESS_RATE=0 TESSERA_LOG_LEVEL=warn TESSERA_THREADS=2
export TESSERA_ADMIN_LISTEN= TESSERA_LISTEN=127.0.0.1:$PORT TESSERA_ISSUER=http://127.0.0.1:$PORT
unset TESSERA_CONFIG
cat >"$WORK/token.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&scope=api:read"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = os.getenv("AB_AUTH")
LUA

psql_admin() { # as the cluster's owner (pg.sh makes it postgres when run as root)
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- psql -q -h "$PG_DIR/run" -d postgres "$@" >/dev/null
    else psql -q -h "$PG_DIR/run" -d postgres "$@" >/dev/null; fi
}

run_one() { # BIN -> prints req/s
    local bin=$1 secret rps
    PGOPTIONS="-c client_min_messages=warning" psql_admin -c "DROP DATABASE IF EXISTS ab" -c "CREATE DATABASE ab OWNER tessera"
    export DATABASE_URL=${BASE_URL/\/tessera\?/\/ab?}
    "$bin" migrate >/dev/null
    secret=$(openssl rand -hex 32)
    (umask 077 && printf '{"clients": [{"client_id": "ab", "client_secret": "%s", "grant_types": ["client_credentials"], "scope": "api:read"}]}' \
        "$secret" >"$WORK/clients.json")
    "$bin" apply "$WORK/clients.json" >/dev/null
    export AB_AUTH="Basic $(printf 'ab:%s' "$secret" | base64 -w0)"
    "$bin" serve >"$WORK/serve.log" 2>&1 &
    NODE=$!
    for _ in $(seq 100); do curl -sf -o /dev/null "$TESSERA_ISSUER/readyz" && break; sleep 0.1; done
    wrk -t1 -c32 -d3s -s "$WORK/token.lua" "$TESSERA_ISSUER/token" >/dev/null
    rps=$(wrk -t1 -c32 -d10s -s "$WORK/token.lua" "$TESSERA_ISSUER/token" | awk '/Non-2xx/ { bad = 1 } /Requests\/sec/ { r = $2 } END { print bad ? "non-2xx" : r }')
    kill "$NODE"; wait "$NODE" || true; NODE=
    "$bin" audit verify >/dev/null || { echo "ab_token.sh: the audit chain of $bin does not verify" >&2; exit 1; }
    echo "$rps"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

: >"$WORK/a" && : >"$WORK/b"
for r in $(seq "$ROUNDS"); do
    order="a b"; [ $((r % 2)) -eq 0 ] && order="b a"
    for which in $order; do
        bin=$A; [ "$which" = b ] && bin=$B
        rps=$(run_one "$bin")
        echo "round $r  $which  $rps req/s"
        echo "$rps" >>"$WORK/$which"
    done
done
echo "median  A $(median <"$WORK/a") req/s  ($A)"
echo "median  B $(median <"$WORK/b") req/s  ($B)"
