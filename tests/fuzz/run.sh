#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang in their own tree and runs each for a while, one at a time.
#   tests/fuzz/run.sh [--build DIR] [--seconds N] [--jobs N] [NAME...]
# `make fuzz` runs each for FUZZ_SECONDS (300), `make test` for FUZZ_SMOKE_SECONDS (15). NAMEs default to
# every harness listed in tests/fuzz/CMakeLists.txt; NAME.dict and NAME.options (more libFuzzer flags) are
# used when they exist. Each run starts from the seeds in corpus/NAME/ (crash regressions included, so they
# are replayed first) and grows out/NAME/corpus/. A crash, leak, timeout or broken invariant fails the run:
# the input is kept in out/NAME/ and the command to reproduce it is printed.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build="$top/build-fuzz"
seconds=300
jobs=2
names=()
while [ $# -gt 0 ]; do
    case "$1" in
    --build) build=$(realpath -m "$2"); shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) names+=("$1"); shift ;;
    esac
done
fuzz="$top/tests/fuzz"
out="$fuzz/out"

if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz: clang is not installed (scripts/deps.sh --test installs it)" >&2
    exit 1
fi
echo "== fuzz: building the harnesses with clang in $build"
# Debug with -O1: no _FORTIFY_SOURCE (it hides overflows from ASan), optimized enough to fuzz fast. -Werror is
# the gcc build's job: clang warns about things gcc does not (the harnesses themselves keep -Werror).
cmake -S "$top" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-O1 -g" \
    -DTESSERA_FUZZ=ON -DTESSERA_TESTS=OFF -DTESSERA_WERROR=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target fuzzers
[ ${#names[@]} -gt 0 ] || mapfile -t names < "$build/tests/fuzz/fuzzers.txt"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:check_initialization_order=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=()
start=$(date +%s)
for name in "${names[@]}"; do
    bin="$build/tests/fuzz/fuzz_$name"
    seeds="$fuzz/corpus/$name"
    work="$out/$name"
    [ -x "$bin" ] || { echo "fuzz: no harness $name" >&2; exit 2; }
    mkdir -p "$work/corpus" "$seeds"
    rm -f "$work"/fuzz-*.log
    args=(-max_total_time="$seconds" -jobs=1 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
          -artifact_prefix="$work/")
    [ -f "$fuzz/$name.dict" ] && args+=(-dict="$fuzz/$name.dict")
    # NAME.options: more libFuzzer flags, one a line (e.g. -max_len for inputs longer than the default 4096)
    [ -f "$fuzz/$name.options" ] && mapfile -t -O ${#args[@]} args < <(grep -v '^#' "$fuzz/$name.options" | grep .)
    before=$(ls "$work" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' || true)
    # -jobs=1: one child, its output in $work/fuzz-0.log; new inputs go to the first directory only
    if (cd "$work" && "$bin" "${args[@]}" "$work/corpus" "$seeds" >/dev/null 2>&1); then
        stats=$(grep -E '^(Done|#[0-9]+[[:space:]]+DONE)' "$work/fuzz-0.log" | tail -n 2 | tr '\n' ' ' || true)
        printf 'fuzz %-18s ok   %s\n' "$name" "$stats"
    else
        failed+=("$name")
        printf 'fuzz %-18s FAILED\n' "$name"
        tail -n 60 "$work/fuzz-0.log" 2>/dev/null | sed 's/^/    /' >&2 || true
        for f in $(ls -t "$work" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' || true); do
            echo "$before" | grep -qx "$f" && continue
            echo "    input kept: tests/fuzz/out/$name/$f" >&2
            echo "    reproduce:  $bin $work/$f" >&2
        done
    fi
done
echo "== fuzz: ${#names[@]} harnesses, ${seconds}s each, $(($(date +%s) - start))s in all"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]} (fix the bug, then add the kept input to tests/fuzz/corpus/NAME/)" >&2
    exit 1
fi
