#!/usr/bin/env bash
# The sanitizer pass of `make test`: builds a second tree with AddressSanitizer + UndefinedBehaviorSanitizer
# (LeakSanitizer on), then runs tests/run.sh against it: the unit and C integration tests (ctest), the Node
# integration suite and the end-to-end suite, whose servers and CLI commands are all the ASan binary
# (TESSERA_BIN). SANITIZE_E2E=0 leaves out the end-to-end suite (tests/e2e: Apache, openid-client; ~35 s).
#
# Every sanitized process writes its report to a file in a directory kept outside the throwaway test
# directory; any report fails the pass, and the reports are printed. LeakSanitizer suppresses only the known
# libh2o 2.2.5 teardown leak (tests/sanitizers/lsan.supp).
#   tests/sanitize.sh [BUILD_DIR]     (default build-asan; JOBS sets the build's parallelism)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build-asan}
jobs=${JOBS:-2}

# clang: its UBSan runs inside the ASan runtime and honours log_path. gcc 12 links a separate libubsan that
# ignores log_path when ASan is loaded and prints to stderr only, where a server's report would go unseen.
# Warnings are the gcc build's job (-Werror there), as in the fuzz tree.
cc=gcc
command -v clang >/dev/null 2>&1 && cc=clang
[ "$cc" = clang ] || echo "sanitize: clang not found, using gcc: UBSan reports go to stderr only (and fail the process)" >&2
if [ -f "$build/CMakeCache.txt" ] && ! grep -q "^CMAKE_C_COMPILER:[A-Z]*=.*$cc" "$build/CMakeCache.txt"; then
    rm -rf "$build" # configured with another compiler
fi
echo "== sanitizer pass: ASan+UBSan build ($cc) in $build"
cmake -S "$top" -B "$build" -DCMAKE_C_COMPILER="$cc" -DTESSERA_SANITIZE=ON -DTESSERA_WERROR=OFF -DCMAKE_BUILD_TYPE=Debug \
    ${CMAKE_FLAGS:-} >/dev/null
cmake --build "$build" -j "$jobs"

reports=$(mktemp -d /tmp/tessera-sanitize.XXXXXX)
chmod 755 "$reports"
trap 'rm -rf "$reports"' EXIT
# exitcode: a report also makes the process fail, so the test that ran it fails and names it; the report
# files below catch what no test looks at (a server stopped by the harness, a process whose status is ignored).
export ASAN_OPTIONS="log_path=$reports/asan:halt_on_error=1:abort_on_error=0:exitcode=86:detect_leaks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1:exitcode=86"
export LSAN_OPTIONS="suppressions=$top/tests/sanitizers/lsan.supp:print_suppressions=0:exitcode=86"
# the tests relax their memory bounds for ASan's quarantine and shadow memory
export TESSERA_SANITIZE=1
[ "${SANITIZE_E2E:-1}" = 1 ] || export TESSERA_TEST_SKIP_E2E=1

status=0
"$top/tests/run.sh" "$build" || status=$?

shopt -s nullglob
found=("$reports"/*)
if [ ${#found[@]} -gt 0 ]; then
    echo "== sanitizer pass: ${#found[@]} report(s)" >&2
    for f in "${found[@]}"; do
        echo "---- $(basename "$f")" >&2
        cat "$f" >&2
    done
    status=1
fi
if [ "$status" -ne 0 ]; then
    echo "== sanitizer pass FAILED" >&2
    exit "$status"
fi
echo "== sanitizer pass: no reports"
