#!/usr/bin/env bash
# Runs every test: unit (ctest), C integration (ctest, real PostgreSQL) and the Node integration and
# end-to-end suites, against a throwaway PostgreSQL cluster started here and removed at the end.
set -euo pipefail
build=$(realpath "${1:-build}")
top=$(cd "$(dirname "$0")/.." && pwd)

tmp=$(mktemp -d /tmp/tessera-test.XXXXXX)
chmod 755 "$tmp"
cleanup() {
    "$top/scripts/pg.sh" "$tmp/pg" stop >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT

# fsync off: the cluster is thrown away, and the tests run several times faster
export PG_FSYNC=off
export PG_DIR="$tmp/pg"
export DATABASE_URL=$("$top/scripts/pg.sh" "$PG_DIR" start)
export TESSERA_BIN="$build/tessera"
export TESSERA_KEY_ENCRYPTION_KEY=$(openssl rand -hex 32)
export TESSERA_TEST_TMP="$tmp"
export TESSERA_TEST_LOG_DIR="$tmp/logs"
mkdir -p "$TESSERA_TEST_LOG_DIR"
unset TESSERA_CONFIG

as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_postgres psql -h "$PG_DIR/run" -U postgres -d postgres -qAtX -c "CREATE DATABASE ctest OWNER tessera"

echo "== unit and C integration tests (ctest)"
(cd "$build" && DATABASE_URL="postgresql:///ctest?host=$PG_DIR/run&user=tessera" ctest --output-on-failure --timeout 300)

echo "== integration and end-to-end tests (node --test)"
# the end-to-end tests use real, independent clients: openid-client and jose, pinned by package-lock.json
# (TESSERA_TEST_SKIP_E2E=1, set by the sanitizer pass tests/sanitize.sh: the integration suite only)
e2e="$top/tests/e2e"
[ "${TESSERA_TEST_SKIP_E2E:-0}" = 1 ] && e2e=""
if [ -n "$e2e" ] && { [ ! -d "$e2e/node_modules" ] || [ "$e2e/package-lock.json" -nt "$e2e/node_modules" ]; }; then
    npm ci --prefix "$e2e" --no-audit --no-fund --loglevel=error
fi
files=$(ls "$top"/tests/integration/*.test.mjs ${e2e:+"$e2e"/*.test.mjs} 2>/dev/null || true)
if [ -n "$files" ]; then
    node --test --test-concurrency=1 $files
fi

echo "== no secret in any server's log"
node "$top/tests/check_logs.mjs" "$TESSERA_TEST_LOG_DIR"
