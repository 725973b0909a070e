#!/usr/bin/env bash
# Installs the Debian packages Tessera builds, runs and tests with.
# Does nothing (and needs no network) when everything is already present.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libh2o-evloop-dev libh2o-dev-common libssl-dev libpq-dev
            libjansson-dev libjwt-dev libargon2-dev libcmocka-dev)
run_pkgs=(postgresql-15 postgresql-client-15 curl ca-certificates openssl)

want=("${build_pkgs[@]}" "${run_pkgs[@]}")
if [ "${1:-}" = "--test" ]; then
    # clang for the fuzzers; Apache with mod_auth_openidc is the real gateway of the end-to-end tests
    want+=(clang apache2 libapache2-mod-auth-openidc)
    # Chromium (/usr/bin/chromium), driven by playwright-core over CDP in the browser-flow tests
    want+=(chromium)
    # static analysis in `make lint` (scripts/lint.sh)
    want+=(cppcheck clang-tidy flawfinder)
    # The machine's Node.js may come with its own npm (not Debian's), which conflicts with the npm package.
    command -v node >/dev/null 2>&1 || want+=(nodejs)
    command -v npm >/dev/null 2>&1 || want+=(npm)
fi

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
