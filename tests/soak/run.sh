#!/usr/bin/env bash
# `make soak` (not part of `make test`): a private PostgreSQL cluster in /tmp, the migrations, then
# tests/soak/soak.mjs: SOAK_SECONDS (600) of mixed traffic against `tessera serve`, sampling its RSS and open
# descriptors every 5 s and reporting start, peak and end. See soak.mjs for the traffic and the thresholds.
#   tests/soak/run.sh [TESSERA_BINARY]     (default build/tessera)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
export TESSERA_BIN=$(realpath "${1:-$top/build/tessera}")

tmp=$(mktemp -d /tmp/tessera-soak.XXXXXX)
chmod 755 "$tmp"
cleanup() {
    "$top/scripts/pg.sh" "$tmp/pg" stop >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT

export PG_DIR="$tmp/pg"
export DATABASE_URL=$("$top/scripts/pg.sh" "$PG_DIR" start)
export TESSERA_KEY_ENCRYPTION_KEY=$(openssl rand -hex 32)
export TESSERA_TEST_TMP="$tmp"
unset TESSERA_CONFIG
"$TESSERA_BIN" migrate >/dev/null
echo "soak: $TESSERA_BIN, PostgreSQL in $PG_DIR, SOAK_SECONDS=${SOAK_SECONDS:-600}"
node "$top/tests/soak/soak.mjs"
