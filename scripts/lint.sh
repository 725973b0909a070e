#!/usr/bin/env bash
# Static analysis and the secret scan: `make lint`, which `make test` runs after the build.
#
#   cppcheck     warning, portability and performance checks over src/ (project include paths only)
#   clang-tidy   the checks in .clang-tidy, over src/**/*.c, with BUILD/compile_commands.json
#   flawfinder   risky C calls, level 2 and up (char-array declarations left out: -F)
#   gcc          -fanalyzer over src/**/*.c with the build's own flags (from compile_commands.json)
#   secrets      the tracked tree outside tests/fixtures/: PEM private keys, Tessera handles, high entropy
#
# Any finding fails the run; the summary says which tool. Findings are fixed, or suppressed on their line
# with a reason (STYLE.md wants /* */ comments):
#   cppcheck     /* cppcheck-suppress ID ; reason */            on the line before
#   clang-tidy   /* NOLINT(check): reason */                    on the line, or NOLINTNEXTLINE before it
#   flawfinder   /* Flawfinder: ignore - reason */              on the line, or alone on the line before (the
#                                                               comment must start so; a NOLINT may follow in it)
#   gcc          /* reason */ then #pragma GCC diagnostic push + ignored "-Wanalyzer-..." before the line and
#                pop after it, each inside #ifndef __clang__ (clang, which builds the fuzzers, does not know them)
#   secrets      secret-scan: allow (reason)                    in a comment on the line or the line before
#
# Usage: scripts/lint.sh [BUILD_DIR]    (default build; `cmake -S . -B BUILD_DIR` must have run)
#        LINT_ONLY="tidy analyzer" scripts/lint.sh    runs only some of: cppcheck tidy flawfinder analyzer secrets
# Reports and logs go to BUILD_DIR/lint/.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=$(realpath -m "${1:-build}")
out="$build/lint"
only=" ${LINT_ONLY:-cppcheck tidy flawfinder analyzer secrets} "
jobs=2 # the machine is shared (and may be running a benchmark): two workers at most

declare -A found=() status=() took=()
rm -rf "$out"
mkdir -p "$out"

need() {
    command -v "$1" >/dev/null 2>&1 && return 0
    echo "lint: $1 is not installed (scripts/deps.sh --test installs it)" >&2
    return 1
}

# every C file the build compiles (CMakeLists.txt globs these folders)
mapfile -t sources < <(find src -name '*.c' | LC_ALL=C sort)

run_cppcheck() {
    need cppcheck || return 2
    # jansson's iteration macros, which cppcheck cannot see (system headers are not parsed)
    cat >"$out/jansson.cfg" <<'EOF'
<?xml version="1.0"?>
<def format="2">
  <define name="json_object_foreach(object, key, value)" value="for (key = json_object_iter_key(json_object_iter(object)); key &amp;&amp; (value = json_object_iter_value(json_object_key_to_iter(key))); key = json_object_iter_key(json_object_iter_next(object, json_object_key_to_iter(key))))"/>
  <define name="json_array_foreach(array, index, value)" value="for (index = 0; index &lt; json_array_size(array) &amp;&amp; (value = json_array_get(array, index)); index++)"/>
</def>
EOF
    cppcheck --enable=warning,portability,performance --inline-suppr --error-exitcode=1 --quiet -j "$jobs" \
        --std=c11 --library=posix --library=openssl --library="$out/jansson.cfg" \
        -D_GNU_SOURCE -DH2O_USE_LIBUV=0 -DOPENSSL_API_COMPAT=30000 -DTESSERA_VERSION='"0"' -DTESSERA_SOURCE_DIR='"."' \
        -Iinclude -Isrc --suppress=missingIncludeSystem \
        --template='{file}:{line}:{column}: {severity}: {message} [{id}]' src >"$out/cppcheck.log" 2>&1
    local rc=$?
    grep -E '^[^ ]+:[0-9]+:[0-9]+: ' "$out/cppcheck.log" >"$out/cppcheck.findings"
    [ $rc -ne 0 ] && [ ! -s "$out/cppcheck.findings" ] && cat "$out/cppcheck.log" >"$out/cppcheck.findings"
    return $rc
}

run_tidy() {
    need clang-tidy || return 2
    if [ ! -f "$build/compile_commands.json" ]; then
        echo "lint: $build/compile_commands.json is missing: run cmake -S . -B $build first" >"$out/tidy.findings"
        return 2
    fi
    mkdir -p "$out/tidy"
    # one log per file so that the two workers' output does not interleave
    printf '%s\n' "${sources[@]}" | xargs -P "$jobs" -I{} sh -c \
        'log="$2/$(echo "$1" | tr / _).log"; clang-tidy -p "$3" --quiet "$1" >"$log" 2>&1 || echo "$1" >>"$2/failed"' \
        sh {} "$out/tidy" "$build"
    # a header's finding is reported once per file that includes it: keep one
    cat "$out"/tidy/*.log | grep -E ': (warning|error): .*\[[A-Za-z0-9.,-]+\]$' | sed "s#^$top/##" | sort -u >"$out/tidy.findings"
    if [ -f "$out/tidy/failed" ] && [ ! -s "$out/tidy.findings" ]; then
        sed 's/^/clang-tidy failed without a diagnostic (see its log): /' "$out/tidy/failed" >"$out/tidy.findings"
    fi
    [ ! -f "$out/tidy/failed" ]
}

run_flawfinder() {
    need flawfinder || return 2
    # level 1 is noise (every strlen, every read); -F drops the "char buf[N] could overflow" notes on declarations
    flawfinder --minlevel=2 --falsepositive --error-level=2 --quiet --dataonly --singleline --columns src \
        >"$out/flawfinder.log" 2>&1
    local rc=$?
    grep -E '^[^ ]+:[0-9]+:' "$out/flawfinder.log" >"$out/flawfinder.findings"
    [ $rc -ne 0 ] && [ ! -s "$out/flawfinder.findings" ] && cat "$out/flawfinder.log" >"$out/flawfinder.findings"
    return $rc
}

run_analyzer() {
    need gcc || return 2
    if [ ! -f "$build/compile_commands.json" ]; then
        echo "lint: $build/compile_commands.json is missing: run cmake -S . -B $build first" >"$out/analyzer.findings"
        return 2
    fi
    # each file compiled exactly as the build compiles it (same defines, includes, pkg-config flags,
    # warnings, optimisation), plus -fanalyzer; -Werror makes every analyzer warning an error
    python3 - "$build/compile_commands.json" "$out/analyzer" "$jobs" "${sources[@]}" <<'EOF'
import concurrent.futures, json, os, shlex, subprocess, sys

db_path, logdir, jobs, sources = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
os.makedirs(logdir, exist_ok=True)
db = {os.path.realpath(e["file"]): e for e in json.load(open(db_path))}

def analyze(src):
    log = os.path.join(logdir, src.replace("/", "_") + ".log")
    entry = db.get(os.path.realpath(src))
    if entry is None:
        text = f"{src}: not in compile_commands.json: reconfigure (cmake -S . -B BUILD)\n"
        open(log, "w").write(text)
        return 1
    args = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
    cmd, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a == "-o":
            skip = True
        elif not a.startswith("-g"):
            cmd.append(a)
    cmd += ["-fanalyzer", "-Werror", "-g0", "-o", "/dev/null"]
    p = subprocess.run(cmd, cwd=entry["directory"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    open(log, "w").write(p.stdout)
    return p.returncode

with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
    codes = list(pool.map(analyze, sources))
sys.exit(1 if any(codes) else 0)
EOF
    local rc=$?
    cat "$out"/analyzer/*.log 2>/dev/null | grep -E '(warning|error): ' | sed "s#^$top/##" | sort -u >"$out/analyzer.findings"
    [ $rc -ne 0 ] && [ ! -s "$out/analyzer.findings" ] && cat "$out"/analyzer/*.log >"$out/analyzer.findings"
    return $rc
}

run_secrets() {
    need git || return 2
    # Rules (tests/fixtures/ is not scanned: it is where deliberate test secrets belong):
    #   pem       a PEM private key header, anywhere
    #   handle    a Tessera handle prefix (tscs_ tsr_ tsac_ tsss_ tsra_, include/tessera/crypto.h) and 20+ base64url chars
    #   entropy   a run of 32+ base64/hex characters that looks random: pure hex with Shannon entropy >= 3.0
    #             bits/char, or upper+lower+digits with >= 4.1. Random values of 32 characters score above these
    #             999 times in 1000 (40+ characters: always); the longest OpenSSL identifiers score ~4.06.
    #             Not reported: alphabet tables (mostly consecutive characters, e.g. the base64url alphabet),
    #             Subresource Integrity digests in lock files (sha512-...: public hashes of packages), base64 of
    #             plain text (a JWT header, "user:password": the decoded text is scanned instead), and C test
    #             sources under tests/, which carry published known-answer vectors (RFC example keys, SHA-256 and
    #             AES-GCM vectors, argon2 encodings); the pem and handle rules still apply to those.
    #   Fuzzer seeds (tests/fuzz/corpus/) are raw inputs made from the fuzzing test keys and cannot carry a
    #   comment: only the pem rule applies to them.
    # A line (or the line after) a comment saying "secret-scan: allow (reason)" is not reported.
    git ls-files -z >"$out/files" || return 2
    python3 - "$out/files" >"$out/secrets.findings" <<'EOF'
import base64, binascii, collections, math, os, re, sys

PEM = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
HANDLE = re.compile(r"(?<![A-Za-z0-9_])(?:tscs|tsr|tsac|tsss|tsra)_[A-Za-z0-9_-]{20,}")
RUN = re.compile(r"[A-Za-z0-9+/_-]{32,}={0,2}")
HEX = re.compile(r"[0-9a-fA-F]+")
SRI = re.compile(r"sha(?:256|384|512)-")
MARK = "secret-scan: allow"


def entropy(s):
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in collections.Counter(s).values())


def alphabet(s):
    steps = sum(1 for a, b in zip(s, s[1:]) if ord(b) == ord(a) + 1)
    return 2 * steps > len(s) - 1


def decoded_text(s):
    """the text a base64/base64url run encodes, or None when it encodes bytes"""
    b = s.rstrip("=").replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(b + "=" * (-len(b) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    ok = all(32 <= c < 127 or c in (9, 10, 13) for c in raw)
    return raw.decode("ascii") if ok and raw else None


def random_looking(s):
    if SRI.match(s) or alphabet(s):
        return False
    text = None if HEX.fullmatch(s) else decoded_text(s)
    if text is not None:
        return bool(HANDLE.search(text) or PEM.search(text) or any(random_looking(r) for r in RUN.findall(text)))
    if HEX.fullmatch(s):
        return entropy(s) >= 3.0
    if re.search("[a-z]", s) and re.search("[A-Z]", s) and re.search("[0-9]", s):
        return entropy(s) >= 4.1
    return False


def shown(s):  # never print the secret itself: a handle's prefix, or the first 4 characters
    return f"{s[:s.index('_') + 1] if HANDLE.fullmatch(s) else s[:4]}... ({len(s)} chars)"


hits = 0
for path in open(sys.argv[1], "rb").read().decode().split("\0"):
    if not path or path.startswith("tests/fixtures/") or not os.path.isfile(path):
        continue
    data = open(path, "rb").read()
    binary = b"\0" in data
    vectors = path.startswith("tests/") and path.endswith((".c", ".h"))
    seeds = path.startswith("tests/fuzz/corpus/")
    prev = ""
    for no, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        allowed = MARK in line or MARK in prev
        prev = line
        if allowed:
            continue
        found = [("pem", m.group(0)) for m in PEM.finditer(line)]
        if not seeds:
            found += [("handle", shown(m.group(0))) for m in HANDLE.finditer(line)]
        if not binary and not vectors and not seeds:
            found += [("entropy", shown(m.group(0))) for m in RUN.finditer(line)
                      if random_looking(m.group(0)) and not HANDLE.search(m.group(0))]
        for rule, what in found:
            print(f"{path}:{no}: {rule}: {what}")
            hits += 1
sys.exit(1 if hits else 0)
EOF
}

total=0
for tool in cppcheck tidy flawfinder analyzer secrets; do
    case "$only" in *" $tool "*) ;; *) continue ;; esac
    echo "== lint: $tool"
    start=$(date +%s)
    "run_$tool"
    rc=$?
    took[$tool]=$(($(date +%s) - start))
    touch "$out/$tool.findings"
    found[$tool]=$(grep -c . "$out/$tool.findings")
    if [ "$rc" -ne 0 ] && [ "${found[$tool]}" -eq 0 ]; then
        found[$tool]=1 # failed without saying why: still a failure
        echo "$tool exited with status $rc" >>"$out/$tool.findings"
    fi
    status[$tool]=$([ "$rc" -eq 0 ] && [ "${found[$tool]}" -eq 0 ] && echo ok || echo FAIL)
    [ "${status[$tool]}" = ok ] || cat "$out/$tool.findings"
    total=$((total + found[$tool]))
done

echo
echo "lint summary (logs in $out)"
for tool in cppcheck tidy flawfinder analyzer secrets; do
    [ -n "${status[$tool]:-}" ] || continue
    printf '  %-11s %-4s %3d finding(s)  %4ss\n' "$tool" "${status[$tool]}" "${found[$tool]}" "${took[$tool]}"
done
if [ "$total" -ne 0 ]; then
    echo "lint: $total finding(s): fix them, or suppress on the line with a reason (see the top of scripts/lint.sh)"
    exit 1
fi
echo "lint: clean"
