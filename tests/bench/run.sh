#!/usr/bin/env bash
# Tessera benchmark: not part of `make test`; `make bench` runs it (BENCH_ARGS="--quick" for a smoke run).
#
#   tests/bench/run.sh [--quick] [--rounds N] [--no-peers] [--only http|revocation]
#                      [--bin PATH] [--pool N] [--revocations N]
#
# HTTP part: wrk -t1 -c32 on loopback, a warm-up then a measured run (10 s) per endpoint, N rounds
# (3) interleaved across Tessera and the peers that ../shared/peers starts (panva's oidc-provider,
# Glewlwyd), the server order reversed on even rounds, medians over rounds:
#   token                client_credentials with client_secret_basic
#   introspect-one       introspection of one valid token, repeated (what a gateway does)
#   introspect-distinct  introspection rotating through a pool of pre-issued tokens (introspect-pool.lua)
#   jwks                 GET of the JWKS document
# Each run goes through the peers' common/bench.mjs (sanity request, warm-up, wait for a quiet
# machine, req/s, p50/p99, RSS idle/peak, CPU per request); Tessera is described to it by a peer
# JSON written here. Revocation part: revocation.mjs (three nodes on one PostgreSQL, time from a 200
# on /revoke at one node to active:false at the two others).
#
# Output: tests/bench/results/<run id>/ (raw rows, logs, revocation.json) and
# tests/bench/results/summary.md (markdown tables for the README, with the command).
# The distinct-token pool is 20,000 tokens: Tessera keeps a direct-mapped cache of 4,096 verified
# tokens per loop thread, so a pool of a few thousand would mostly measure cache hits (with N
# tokens in round robin about e^(-N/4096) of the lookups hit: 61 % at 2,000, under 1 % at 20,000).
# --quick: 1 round, 1 s warm-up, 3 s runs, a pool of 2,000 tokens, 20 revocations, short quiet waits.
# Every server this starts is stopped on exit: Tessera nodes, the peers (their stop.sh) and both
# PostgreSQL clusters (the peers' one only if it was not already running).
#
# env: BENCH_TESSERA_THREADS (0 = one loop thread per core), BENCH_TESSERA_CONFIG (a config file;
#      default: the built-in defaults), BENCH_PORT (9300; revocation nodes use
#      BENCH_PORT+10..12), BENCH_BUILD (build dir when --bin is not given, default build-bench),
#      BENCH_OIDC_INTROSPECT_VARIANTS ("opaque opaque-pg": oidc-provider cannot introspect its own
#      JWTs, so introspection runs against its opaque tokens, in memory and with its PostgreSQL
#      adapter; the distinct-token run only with the latter, as the in-memory store is an LRU of
#      about 1,000 entries that forgets the rest of a pool),
#      QUIET_MAX_WAIT / MAX_TRIES / QUIET_MAX_CORES / FOREIGN_MAX (passed to common/bench.mjs).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
PEERS=$(cd "$HERE/../../../shared/peers" 2>/dev/null && pwd) || PEERS=

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

QUICK= ROUNDS= POOL= REVOCATIONS= BIN= WITH_PEERS=1 ONLY=all
ARGS_TEXT="$*"
while [ $# -gt 0 ]; do
    case $1 in
    --quick) QUICK=1 ;;
    --rounds) ROUNDS=${2:?--rounds N}; shift ;;
    --no-peers) WITH_PEERS= ;;
    --only) ONLY=${2:?--only http|revocation}; shift ;;
    --bin) BIN=${2:?--bin PATH}; shift ;;
    --pool) POOL=${2:?--pool N}; shift ;;
    --revocations) REVOCATIONS=${2:?--revocations N}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
    shift
done
case $ONLY in all | http | revocation) ;; *) echo "run.sh: --only takes http or revocation" >&2; exit 2 ;; esac
if [ -n "$QUICK" ]; then
    ROUNDS=${ROUNDS:-1} DURATION=3 WARMUP=1 POOL=${POOL:-2000} REVOCATIONS=${REVOCATIONS:-20}
    export QUIET_MAX_WAIT=${QUIET_MAX_WAIT:-15} MAX_TRIES=${MAX_TRIES:-1}
else
    ROUNDS=${ROUNDS:-3} DURATION=10 WARMUP=3 POOL=${POOL:-20000} REVOCATIONS=${REVOCATIONS:-100}
fi
for v in ROUNDS POOL REVOCATIONS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: $v must be a positive integer" >&2; exit 2; }
done
[ "$ROUNDS" -le 9 ] || { echo "run.sh: at most 9 rounds" >&2; exit 2; }
[ "$POOL" -le 100000 ] && [ "$REVOCATIONS" -le 10000 ] || { echo "run.sh: pool/revocations too large" >&2; exit 2; }
[ -n "$PEERS" ] && [ -f "$PEERS/common/bench.mjs" ] || {
    echo "run.sh: the peers' scripts are not at $HERE/../../../shared/peers (common/bench.mjs is needed)" >&2; exit 1; }

BASE_PORT=${BENCH_PORT:-9300}
OIDC_INTROSPECT_VARIANTS=${BENCH_OIDC_INTROSPECT_VARIANTS:-opaque opaque-pg}
export CONNS=32 THREADS=1 DURATION WARMUP
COMMAND=${BENCH_COMMAND:-tests/bench/run.sh${ARGS_TEXT:+ $ARGS_TEXT}}
FAILED=()
log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
fail() { log "FAILED: $*"; FAILED+=("$*"); }
die() { log "run.sh: $*"; exit 1; }

# ---- tools: the peers' installer is idempotent but slow (apt-get update), so only when needed
missing=
for t in wrk jq curl node openssl pg_isready; do command -v "$t" >/dev/null || missing+=" $t"; done
[ -x /usr/bin/time ] || missing+=" time"
if [ -n "$WITH_PEERS" ]; then
    command -v glewlwyd >/dev/null || missing+=" glewlwyd"
    [ -d "$PEERS/oidc-provider/node_modules/oidc-provider" ] || missing+=" oidc-provider(npm)"
fi
if [ -n "$missing" ]; then
    log "installing the peers' tools (missing:$missing) with $PEERS/install.sh"
    "$PEERS/install.sh" >&2
fi

# ---- build (make bench builds first and passes --bin)
if [ -z "$BIN" ]; then
    build=${BENCH_BUILD:-$TOP/build-bench}
    [ -f "$build/CMakeCache.txt" ] || cmake -S "$TOP" -B "$build" -DCMAKE_BUILD_TYPE=Release >&2
    cmake --build "$build" -j "${JOBS:-$(nproc)}" --target tessera >&2
    BIN=$build/tessera
fi
BIN=$(realpath "$BIN")
[ -x "$BIN" ] || die "no tessera binary at $BIN"
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$(dirname "$BIN")/CMakeCache.txt" 2>/dev/null || true)
GIT_REV=$(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown)
TESSERA_VERSION="$("$BIN" --version 2>/dev/null | head -n 1) (git $GIT_REV, ${BUILD_TYPE:-no build type})"

# ---- run directory, cleanup
RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)
RUN_DIR=$HERE/results/$RUN_ID
mkdir -p "$RUN_DIR"
: >"$RUN_DIR/raw.jsonl"
PG_DIR= TESSERA_PID= CHILD= PEER_PG_WAS_UP= PEERS_USED=
if pg_isready -q -h 127.0.0.1 -p 5501 2>/dev/null; then PEER_PG_WAS_UP=1; fi

stop_pid() { # PID: TERM, then KILL after 15 s
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    log "pid $pid did not stop in 15 s, killing it"
    kill -KILL "$pid" 2>/dev/null || true
}
stop_group() { # PGID: the whole process group of a child started by run_child
    local pg=$1
    kill -0 -- "-$pg" 2>/dev/null || return 0
    kill -TERM -- "-$pg" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 -- "-$pg" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL -- "-$pg" 2>/dev/null || true
}
# run_child CMD...: runs CMD in its own process group and waits for it, so that an interrupt is
# handled at once and cleanup() can stop CMD with everything it started (bench.mjs, time, wrk)
run_child() {
    local rc=0
    setsid "$@" &
    CHILD=$!
    wait "$CHILD" || rc=$?
    CHILD=
    return "$rc"
}
cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    [ -n "$CHILD" ] && stop_group "$CHILD"
    [ -n "$TESSERA_PID" ] && stop_pid "$TESSERA_PID"
    # nodes revocation.mjs started, in case it could not stop them itself
    if [ -f "$RUN_DIR/revocation.pids" ]; then
        for p in $(cat "$RUN_DIR/revocation.pids"); do
            [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$(basename "$BIN" | cut -c1-15)" ] && stop_pid "$p"
        done
    fi
    if [ -n "$PEERS_USED" ]; then
        "$PEERS/oidc-provider/stop.sh" >/dev/null
        "$PEERS/glewlwyd/stop.sh" >/dev/null
        [ -z "$PEER_PG_WAS_UP" ] && "$PEERS/common/pg.sh" stop >/dev/null
    fi
    if [ -n "$PG_DIR" ]; then "$TOP/scripts/pg.sh" "$PG_DIR" stop; rm -rf "$PG_DIR"; fi
    rm -f "$RUN_DIR"/pool-*.txt "$RUN_DIR/wrk-mark"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- Tessera: private PostgreSQL, key-encryption key, migrations, the bench client
PG_DIR=$(mktemp -d /tmp/tessera-bench.XXXXXX)
DATABASE_URL=$("$TOP/scripts/pg.sh" "$PG_DIR" start)
TESSERA_KEY_ENCRYPTION_KEY=$(openssl rand -hex 32)
export DATABASE_URL TESSERA_KEY_ENCRYPTION_KEY
# the built-in defaults (those of conf/tessera.conf) unless BENCH_TESSERA_CONFIG names a file
if [ -n "${BENCH_TESSERA_CONFIG:-}" ]; then export TESSERA_CONFIG=$BENCH_TESSERA_CONFIG; else unset TESSERA_CONFIG; fi
# out of the benchmark's way: rate limits off, warnings only (the peers log no more than that),
# tokens valid for an hour as the peers' are (a pool must outlive its run)
export TESSERA_RATE_LIMIT_CLIENT_RATE=0 TESSERA_RATE_LIMIT_ADDRESS_RATE=0 TESSERA_LOG_LEVEL=warn
export TESSERA_ACCESS_TOKEN_TTL=1h
export TESSERA_THREADS=${BENCH_TESSERA_THREADS:-0}
THREADS_TEXT="$TESSERA_THREADS loop threads"
[ "$TESSERA_THREADS" = 0 ] && THREADS_TEXT="$(nproc) loop threads (one per core)"
"$BIN" migrate >"$RUN_DIR/migrate.log" 2>&1 || { cat "$RUN_DIR/migrate.log" >&2; die "tessera migrate failed"; }
CLIENT_ID=bench
CLIENT_SECRET=$(openssl rand -hex 32)
CLIENTS_JSON=$PG_DIR/clients.json
(umask 077 && cat >"$CLIENTS_JSON" <<JSON
{"clients": [{"client_id": "$CLIENT_ID", "client_name": "benchmark",
  "client_secret": "$CLIENT_SECRET", "token_endpoint_auth_method": "client_secret_basic",
  "grant_types": ["client_credentials"], "scope": "api:read api:write", "default_scope": "api:read",
  "may_introspect": true}]}
JSON
)
"$BIN" apply "$CLIENTS_JSON" >"$RUN_DIR/apply.log" 2>&1 || { cat "$RUN_DIR/apply.log" >&2; die "tessera apply failed"; }
export BENCH_CLIENT_ID=$CLIENT_ID BENCH_CLIENT_SECRET=$CLIENT_SECRET
AUTH="Basic $(printf '%s:%s' "$CLIENT_ID" "$CLIENT_SECRET" | base64 -w0)"
PORT=$BASE_PORT
ISSUER=http://127.0.0.1:$PORT
TESSERA_JSON=$RUN_DIR/tessera.peer.json

start_tessera() { # LOG: starts one node on $PORT, waits for /readyz, writes $TESSERA_JSON
    local logf=$1
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then die "port $PORT is in use (set BENCH_PORT)"; fi
    TESSERA_LISTEN=127.0.0.1:$PORT TESSERA_ISSUER=$ISSUER setsid "$BIN" serve >"$logf" 2>&1 </dev/null &
    TESSERA_PID=$!
    local ok=
    for _ in $(seq 150); do
        kill -0 "$TESSERA_PID" 2>/dev/null || break
        if curl -sf -o /dev/null "$ISSUER/readyz"; then ok=1; break; fi
        sleep 0.2
    done
    [ -n "$ok" ] || { tail -n 20 "$logf" >&2; die "tessera did not become ready on $ISSUER in 30 s"; }
    local endpoints="\"jwks\": {\"url\": \"$ISSUER/jwks.json\", \"expect\": \"keys\"}"
    [ -n "${HAVE_TOKEN:-}" ] && endpoints+=", \"token\": {\"url\": \"$ISSUER/token\",
      \"body\": \"grant_type=client_credentials&scope=api:read\", \"auth\": \"$AUTH\", \"expect\": \"access_token\"}"
    [ -n "${HAVE_INTROSPECT:-}" ] && endpoints+=", \"introspect\": {\"url\": \"$ISSUER/introspect\", \"auth\": \"$AUTH\"}"
    jq . >"$TESSERA_JSON" <<JSON
{ "peer": "tessera", "variant": "${TESSERA_VARIANT:-ES256}", "version": "$TESSERA_VERSION, $THREADS_TEXT",
  "pids": [$TESSERA_PID], "db_pid": $(head -n 1 "$PG_DIR/data/postmaster.pid"),
  "issuer": "$ISSUER", "endpoints": { $endpoints } }
JSON
}
stop_tessera() { if [ -n "$TESSERA_PID" ]; then stop_pid "$TESSERA_PID"; TESSERA_PID=; fi; }

# ---- which endpoints does this build serve? (token, introspect and revoke may not have landed yet)
HAVE_TOKEN= HAVE_INTROSPECT= HAVE_REVOKE= TESSERA_VARIANT=
start_tessera "$RUN_DIR/tessera-probe.log"
post() { curl -s -m 10 -o "$RUN_DIR/probe.body" -w '%{http_code}' -H "Authorization: $AUTH" "$@" || true; }
curl -sf "$ISSUER/jwks.json" | grep -q '"keys"' || die "GET $ISSUER/jwks.json does not answer a JWKS"
code=$(post -d 'grant_type=client_credentials&scope=api:read' "$ISSUER/token")
if [ "$code" = 200 ] && at=$(jq -er .access_token "$RUN_DIR/probe.body" 2>/dev/null); then
    HAVE_TOKEN=1
    hdr=$(cut -d. -f1 <<<"$at" | tr '_-' '/+')
    while ((${#hdr} % 4)); do hdr+='='; done
    TESSERA_VARIANT=$(base64 -d <<<"$hdr" 2>/dev/null | jq -r '.alg // empty' 2>/dev/null || true)
    TESSERA_VARIANT=${TESSERA_VARIANT:-opaque}
    code=$(post --data-urlencode "token=$at" "$ISSUER/introspect")
    if [ "$code" = 200 ] && grep -Eq '"active" *: *true' "$RUN_DIR/probe.body"; then HAVE_INTROSPECT=1
    else log "POST /introspect answers $code: $(head -c 200 "$RUN_DIR/probe.body")"; fi
    code=$(post --data-urlencode "token=$at" "$ISSUER/revoke")
    if [ "$code" = 200 ]; then HAVE_REVOKE=1
    else log "POST /revoke answers $code: $(head -c 200 "$RUN_DIR/probe.body")"; fi
else
    log "POST /token answers $code: $(head -c 200 "$RUN_DIR/probe.body")"
fi
rm -f "$RUN_DIR/probe.body"
stop_tessera
yn() { if [ -n "$1" ]; then echo yes; else echo no; fi; }
log "$TESSERA_VERSION: jwks yes, token $(yn "$HAVE_TOKEN"), introspect $(yn "$HAVE_INTROSPECT"), revoke $(yn "$HAVE_REVOKE")"
[ -n "$HAVE_TOKEN" ] || fail "tessera does not serve POST /token: token and introspection not measured"
[ -n "$HAVE_TOKEN" ] && [ -z "$HAVE_INTROSPECT" ] && fail "tessera does not serve POST /introspect: introspection not measured"

# the size of Tessera's cache of verified JWTs (per loop thread), for the note on the pool size
JWT_CACHE_SLOTS=$(sed -n 's/.*ts_jwt_cache_create(\([0-9][0-9]*\)).*/\1/p' "$TOP/src/http/server.c" 2>/dev/null | head -n 1)
jq -n --arg run "$RUN_ID" --arg command "$COMMAND" --argjson quick "${QUICK:-0}" \
    --argjson rounds "$ROUNDS" --argjson duration "$DURATION" --argjson warmup "$WARMUP" \
    --argjson pool "$POOL" --argjson revocations "$REVOCATIONS" --arg tessera "$TESSERA_VERSION" \
    --arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" --argjson cores "$(nproc)" \
    --arg os "$(. /etc/os-release && echo "$PRETTY_NAME"), Linux $(uname -r)" \
    --arg wrk "$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)" --arg postgres "$(psql --version | cut -d' ' -f3)" \
    --arg peers "${WITH_PEERS:+oidc-provider glewlwyd}" --arg oidc_introspect "$OIDC_INTROSPECT_VARIANTS" \
    --arg tthreads "$TESSERA_THREADS" --argjson jwt_cache_slots "${JWT_CACHE_SLOTS:-null}" \
    '{run: $run, date: (now | todate), command: $command, quick: ($quick == 1), rounds: $rounds,
      duration_s: $duration, warmup_s: $warmup, conns: 32, threads: 1, pool: $pool,
      revocations: $revocations, tessera: $tessera, tessera_threads: $tthreads, cpu: $cpu,
      cores: $cores, os: $os, wrk: $wrk, postgres: $postgres,
      peers: ($peers | split(" ") | map(select(. != ""))), oidc_introspect_variant: $oidc_introspect,
      jwt_cache_slots: $jwt_cache_slots, versions: {}}' >"$RUN_DIR/meta.json"

# ---- running common/bench.mjs and keeping its rows
export PATH="$HERE/bin:$PATH"              # the wrk shim (bin/wrk), inert unless BENCH_WRK_SCRIPT is set
export BENCH_PEERS_LUA=$PEERS/common/wrk.lua
SHARED_RAW=$PEERS/results/raw.jsonl

# keep_rows TAG OFFSET: copies the rows bench.mjs appended to the peers' raw.jsonl since OFFSET
keep_rows() {
    local tag=$1 off=$2
    [ -f "$SHARED_RAW" ] || return 0
    tail -c +"$((off + 1))" "$SHARED_RAW" | jq -c --arg run "$RUN_ID" --arg tag "$tag" \
        '. + {run: $run, case: (if .endpoint == "introspect" then "introspect-\($tag)" else .endpoint end)}
         | .variant |= sub(" \\(distinct tokens\\)$"; "")' \
        >>"$RUN_DIR/raw.jsonl"
}
raw_size() { if [ -f "$SHARED_RAW" ]; then stat -c %s "$SHARED_RAW"; else echo 0; fi; }
note_version() { # PEER_JSON: records the server's version string in meta.json
    local f=$1 tmp
    tmp=$(jq --slurpfile p "$f" '.versions[$p[0].peer + " " + $p[0].variant] = $p[0].version' "$RUN_DIR/meta.json")
    printf '%s\n' "$tmp" >"$RUN_DIR/meta.json"
}
# measure TAG ENDPOINTS PEER_JSON: one bench.mjs invocation (the server is already running)
measure() {
    local tag=$1 eps=$2 json=$3 off
    off=$(raw_size)
    if ENDPOINTS=$eps run_child node "$PEERS/common/bench.mjs" "$json" "$ROUND"; then :; else fail "bench.mjs $(jq -r .peer "$json") $eps"; fi
    keep_rows "$tag" "$off"
}
# measure_peer PEER VARIANT ENDPOINTS: the peers' bench.sh (fresh restart of that variant)
measure_peer() {
    local peer=$1 variant=$2 eps=$3 off
    off=$(raw_size)
    if ENDPOINTS=$eps ROUND=$ROUND run_child "$PEERS/bench.sh" "$peer" "$variant"; then :; else fail "bench.sh $peer $variant $eps"; fi
    keep_rows one "$off"
    [ -f "$PEERS/$peer/run/peer.json" ] && note_version "$PEERS/$peer/run/peer.json"
}
# measure_distinct JSON: a pool of $POOL tokens from the running server (the previous round's
# when the server still knows them: Tessera's JWTs and Glewlwyd's stored tokens survive a restart,
# oidc-provider's in-memory ones do not), then the introspection run with introspect-pool.lua
# swapped in through the shim
measure_distinct() {
    local json=$1 name pool off marks djson
    name=$(jq -r '.peer + "-" + .variant' "$json")
    pool=$RUN_DIR/pool-$name.txt
    # a variant of its own in the peers' raw.jsonl, so that their summary keeps these rows apart
    djson=$RUN_DIR/$name.distinct.json
    jq '.variant += " (distinct tokens)"' "$json" >"$djson"
    if [ -s "$pool" ] && node "$HERE/pool.mjs" check "$json" "$pool" >/dev/null 2>&1; then
        log "$name: reusing the pool of $(wc -l <"$pool") tokens (still active)"
    elif ! run_child node "$HERE/pool.mjs" fetch "$json" "$pool" "$POOL" >&2; then
        fail "token pool from $name"; rm -f "$pool"; return
    fi
    log "$name: introspection of $POOL distinct tokens (introspect-pool.lua)"
    rm -f "$RUN_DIR/wrk-mark"
    off=$(raw_size)
    if BENCH_WRK_SCRIPT=$HERE/introspect-pool.lua BENCH_WRK_MARK=$RUN_DIR/wrk-mark BENCH_TOKEN_POOL=$pool \
        ENDPOINTS=introspect run_child node "$PEERS/common/bench.mjs" "$djson" "$ROUND"; then :; else fail "bench.mjs $name distinct"; fi
    marks=$(grep -c introspect-pool.lua "$RUN_DIR/wrk-mark" 2>/dev/null || true)
    if [ "${marks:-0}" -lt 2 ]; then # the warm-up and the measured run
        fail "$name: bench.mjs did not run wrk through tests/bench/bin/wrk; distinct-token rows discarded"
    else
        keep_rows distinct "$off"
        node "$HERE/pool.mjs" check "$json" "$pool" >&2 || fail "$name: pool tokens inactive after the run"
    fi
}

run_tessera() {
    log "== tessera, round $r"
    start_tessera "$RUN_DIR/tessera-r$r.log"
    note_version "$TESSERA_JSON"
    sleep 2 # settle before the idle RSS reading, as the peers' bench.sh does
    local eps=jwks
    [ -n "$HAVE_TOKEN" ] && eps=token,jwks
    [ -n "$HAVE_INTROSPECT" ] && eps=token,introspect,jwks
    measure one "$eps" "$TESSERA_JSON"
    [ -n "$HAVE_INTROSPECT" ] && measure_distinct "$TESSERA_JSON"
    stop_tessera
}
run_oidc_provider() {
    log "== oidc-provider, round $r"
    PEERS_USED=1
    measure_peer oidc-provider jwt-ES256 token,jwks
    local v
    for v in $OIDC_INTROSPECT_VARIANTS; do
        measure_peer oidc-provider "$v" introspect
        # the in-memory adapter is an LRU of ~1,000 entries: a pool would be forgotten
        if [ "$v" != opaque ] && [ -f "$PEERS/oidc-provider/run/peer.json" ]; then
            measure_distinct "$PEERS/oidc-provider/run/peer.json"
        fi
    done
    "$PEERS/oidc-provider/stop.sh" >/dev/null
}
run_glewlwyd() {
    log "== glewlwyd, round $r"
    PEERS_USED=1
    measure_peer glewlwyd ES256 token,introspect,jwks
    [ -f "$PEERS/glewlwyd/run/peer.json" ] && measure_distinct "$PEERS/glewlwyd/run/peer.json"
    "$PEERS/glewlwyd/stop.sh" >/dev/null
}

if [ "$ONLY" != revocation ]; then
    SERVERS=(tessera)
    [ -n "$WITH_PEERS" ] && SERVERS+=(oidc-provider glewlwyd)
    for r in $(seq "$ROUNDS"); do
        if [ -n "$QUICK" ]; then ROUND=smoke; else ROUND=tessera-$RUN_ID-r$r; fi # "smoke": left out of the peers' own summary
        order=("${SERVERS[@]}")
        if ((r % 2 == 0)); then order=(); for ((i = ${#SERVERS[@]} - 1; i >= 0; i--)); do order+=("${SERVERS[$i]}"); done; fi
        log "=== round $r/$ROUNDS: ${order[*]}"
        for s in "${order[@]}"; do
            case $s in
            tessera) run_tessera ;;
            oidc-provider) run_oidc_provider ;;
            glewlwyd) run_glewlwyd ;;
            esac
        done
    done
fi

# ---- revocation propagation: three nodes on the same database
if [ "$ONLY" != http ]; then
    if [ -n "$HAVE_REVOKE" ] && [ -n "$HAVE_INTROSPECT" ]; then
        log "=== revocation propagation: $REVOCATIONS revocations, 3 nodes"
        if BENCH_BIN=$BIN BENCH_PORT=$((BASE_PORT + 10)) REVOCATIONS=$REVOCATIONS BENCH_OUT=$RUN_DIR/revocation.json \
            BENCH_LOG_DIR=$RUN_DIR run_child timeout -s TERM $((120 + REVOCATIONS * 6)) node "$HERE/revocation.mjs"; then :
        else fail "revocation.mjs (exit $?)"; fi
    else
        fail "tessera does not serve /revoke and /introspect yet: revocation propagation not measured"
    fi
fi

# ---- summary
node "$HERE/summarize.mjs" "$RUN_DIR" "${FAILED[@]}" >"$RUN_DIR/summary.md" || die "summarize.mjs failed"
cp "$RUN_DIR/summary.md" "$HERE/results/summary.md"
echo
cat "$HERE/results/summary.md"
echo
log "results: $RUN_DIR (summary also in tests/bench/results/summary.md)"
if [ ${#FAILED[@]} -gt 0 ]; then log "${#FAILED[@]} step(s) failed"; exit 1; fi
