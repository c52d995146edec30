#!/usr/bin/env bash
# Builds the libFuzzer + AddressSanitizer targets under Fuzz/ into .build-fuzz/ and runs each
# one for SECONDS seconds on a copy of its seed corpus (Fuzz/corpus/<target>/ is never
# modified). Exits non-zero if any target finds a crash, leak, timeout or out-of-memory.
#
#   scripts/fuzz.sh SECONDS [target...]      targets: form json inflate envelope parquet thrift keys sql api
#   scripts/fuzz.sh build [target...]        build only
#
# The modules are compiled with swiftc directly (no SwiftPM, no second package build): Core,
# Ingest, ColumnStore and Query once each, against small stand-ins for Logging, Metrics, Crypto and
# Hummingbird (Fuzz/Stubs). A module is rebuilt only when one of its sources changed. Crashing
# inputs go to .build-fuzz/artifacts/<target>/; see Fuzz/README.md for reproducing and
# minimising them.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v swiftc >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swiftc ]; then PATH=/opt/swift/usr/bin:$PATH; fi
SWIFTC=${SWIFTC:-swiftc}
ALL_TARGETS="form json inflate envelope parquet thrift keys sql api"
OUT=${FUZZ_BUILD_DIR:-.build-fuzz}
MODS=$OUT/modules OBJ=$OUT/obj BIN=$OUT/bin ARTIFACTS=$OUT/artifacts
mkdir -p "$MODS" "$OBJ" "$BIN" "$ARTIFACTS"

usage() { echo "usage: scripts/fuzz.sh SECONDS|build [target...]   (targets: $ALL_TARGETS)" >&2; exit 2; }
[ $# -ge 1 ] || usage
MODE=$1; shift
case "$MODE" in build) ;; *[!0-9]*|'') usage ;; esac
TARGETS=${*:-$ALL_TARGETS}
for t in $TARGETS; do case " $ALL_TARGETS " in *" $t "*) ;; *) echo "unknown target: $t" >&2; usage ;; esac; done

SANITIZE="-sanitize=fuzzer,address"
COMMON_FLAGS=(-parse-as-library -O -wmo -suppress-warnings -I "$MODS" -I Sources/CZlib -I Sources/CZstd)

# needs_build OUTPUT SOURCES...: true when OUTPUT is missing, older than a source, or was built
# from another list of files or flags.
needs_build() {
    local output=$1; shift
    local list="$output.inputs"
    local current; current=$(printf '%s\n' "$SWIFTC ${COMMON_FLAGS[*]}" "$@")
    [ -f "$output" ] && [ -f "$list" ] && [ "$(cat "$list")" = "$current" ] || return 0
    for source in "$@"; do [ "$source" -nt "$output" ] && return 0; done
    return 1
}

record_inputs() { local output=$1; shift; printf '%s\n' "$SWIFTC ${COMMON_FLAGS[*]}" "$@" > "$output.inputs"; }

# module NAME SANITIZE_FLAGS DEPENDENCY_OBJECTS -- SOURCES...: one object + swiftmodule per module.
module() {
    local name=$1 sanitize=$2 deps=$3; shift 4
    local object=$OBJ/$name.o
    local inputs=("$@")
    for dep in $deps; do inputs+=("$OBJ/$dep.o"); done
    if needs_build "$object" "${inputs[@]}"; then
        echo "fuzz: compiling module $name" >&2
        # -enable-testing: the targets reach internal API through @testable import.
        "$SWIFTC" "${COMMON_FLAGS[@]}" $sanitize -enable-testing -module-name "$name" \
            -emit-module -emit-module-path "$MODS/$name.swiftmodule" -c -o "$object" "$@" 2>&1 \
            | { grep -v -e 'warning:' || true; } >&2
        [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz: module $name failed to compile" >&2; exit 1; }
        record_inputs "$object" "${inputs[@]}"
    fi
}

sources() { find "$@" -name '*.swift' | LC_ALL=C sort; }

build_modules() {
    local need_ingest=0 need_columnstore=0 need_query=0 need_hb=0
    for t in $TARGETS; do
        case $t in
            json|inflate) ;;
            form) need_ingest=1 ;;
            envelope|parquet|thrift|keys) need_ingest=1; need_columnstore=1 ;;
            sql) need_ingest=1; need_columnstore=1; need_query=1 ;;
            api) need_ingest=1; need_hb=1 ;;
        esac
    done
    module Logging "" "" -- Fuzz/Stubs/Logging.swift
    module Metrics "" "" -- Fuzz/Stubs/Metrics.swift
    [ $need_columnstore = 1 ] && module Crypto "" "" -- Fuzz/Stubs/Crypto.swift
    [ $need_hb = 1 ] && module Hummingbird "" "" -- Fuzz/Stubs/Hummingbird.swift
    module Core "$SANITIZE" "" -- $(sources Sources/Core)
    [ $need_ingest = 1 ] && module Ingest "$SANITIZE" "Core Logging Metrics" -- $(sources Sources/Ingest)
    [ $need_columnstore = 1 ] && module ColumnStore "$SANITIZE" "Core Ingest Crypto" -- $(sources Sources/ColumnStore)
    [ $need_query = 1 ] && module Query "$SANITIZE" "Core ColumnStore" -- $(sources Sources/Query)
    return 0
}

# The objects each target links (a module's object must come with the modules it imports).
target_objects() {
    case $1 in
        json|inflate) echo "Core" ;;
        form) echo "Logging Metrics Core Ingest" ;;
        envelope|parquet|thrift|keys) echo "Logging Metrics Crypto Core Ingest ColumnStore" ;;
        sql) echo "Logging Metrics Crypto Core Ingest ColumnStore Query" ;;
        api) echo "Logging Metrics Hummingbird Core Ingest" ;;
    esac
}

# The files a target compiles itself: the API's parameter parsing lives in Server, which
# needs the HTTP stack as a whole (these three files need only Core, Ingest and Hummingbird); the
# SQL target's in-memory tables are the engine tests', the Parquet target's hand-built seed
# files the reader tests'.
target_sources() {
    case $1 in
        api) echo "Sources/Server/API/APIParameters.swift Sources/Server/API/TimeBuckets.swift Sources/Server/API/SQLText.swift" ;;
        sql) echo "Tests/QueryTests/Support/InMemoryCatalog.swift" ;;
        parquet) echo "Tests/ColumnStoreTests/Support/CraftedParquetFile.swift" ;;
        *) echo "" ;;
    esac
}

max_len() {
    case $1 in
        form|json|envelope) echo 4096 ;;
        inflate) echo 8192 ;;
        parquet) echo 16384 ;;
        thrift|keys) echo 2048 ;;
        sql|api) echo 1024 ;;
    esac
}

build_target() {
    local t=$1
    local binary=$BIN/fuzz-$t
    local objects=() inputs=()
    for m in $(target_objects "$t"); do objects+=("$OBJ/$m.o"); done
    inputs=(Fuzz/Common/FuzzSupport.swift $(sources "Fuzz/$t") $(target_sources "$t"))
    if needs_build "$binary" "${inputs[@]}" "${objects[@]}"; then
        echo "fuzz: linking $t" >&2
        "$SWIFTC" "${COMMON_FLAGS[@]}" $SANITIZE -module-name "Fuzz_$t" -o "$binary" "${inputs[@]}" "${objects[@]}" 2>&1 \
            | { grep -v -e 'warning:' || true; } >&2
        [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz: target $t failed to build" >&2; exit 1; }
        record_inputs "$binary" "${inputs[@]}" "${objects[@]}"
    fi
}

# sql_test_seeds DIR: each `query`/`statement` of Tests/QueryTests/sql/*.test as one file.
sql_test_seeds() {
    awk -v dir="$1" '
        /^(query|statement)/ { inside = 1; text = ""; next }
        inside && (/^----/ || /^[[:space:]]*$/) {
            if (text != "") { n++; file = sprintf("%s/test-%04d", dir, n); printf "%s", text > file; close(file) }
            inside = 0; next
        }
        inside { text = (text == "" ? $0 : text "\n" $0) }
        END { if (inside && text != "") { n++; file = sprintf("%s/test-%04d", dir, n); printf "%s", text > file; close(file) } }
    ' Tests/QueryTests/sql/*.test
}

started=$(date +%s)
build_modules
for t in $TARGETS; do build_target "$t"; done
built=$(date +%s)
echo "fuzz: built ${TARGETS// /, } in $((built - started)) s" >&2
[ "$MODE" = build ] && exit 0

SECONDS_EACH=$MODE
work=$(mktemp -d "${TMPDIR:-/tmp}/trackhouse-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Each target is one single-threaded libFuzzer process: run as many at once as there are
# cores (FUZZ_JOBS), so the suite's minute per target costs minutes / cores of wall time.
jobs_max=${FUZZ_JOBS:-$(nproc)}
run_target() {
    local t=$1

    corpus=$work/corpus-$t
    mkdir -p "$corpus" "$ARTIFACTS/$t"
    if [ -d "Fuzz/corpus/$t" ]; then cp -R "Fuzz/corpus/$t/." "$corpus/"; fi
    # The SQL target also starts from every statement of the engine's sqllogictest files.
    if [ "$t" = sql ]; then sql_test_seeds "$corpus"; fi
    log=$OUT/fuzz-$t.log
    echo "fuzz: running $t for $SECONDS_EACH s (log $log)" >&2
    dict=()
    if [ -f "Fuzz/dict/$t.dict" ]; then dict=(-dict="Fuzz/dict/$t.dict"); fi
    status=0
    SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-interactive=no} ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1} \
        "$BIN/fuzz-$t" "$corpus" -max_total_time="$SECONDS_EACH" -max_len="$(max_len "$t")" \
        -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=20 -print_final_stats=1 \
        -artifact_prefix="$ARTIFACTS/$t/" "${dict[@]}" > "$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
    units=$(find "$corpus" -type f | wc -l | tr -d ' ')
    if [ $status -eq 0 ]; then
        echo "fuzz $t: ok, ${execs:-?} runs, ${rate:-?} exec/s, cov ${cov:-?}, ft ${ft:-?}, corpus $units" > "$work/summary-$t"
    else
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        reason=$(grep -m1 -o -e 'ERROR: libFuzzer: [a-z-]*' -e 'ERROR: AddressSanitizer: [a-z-]*' -e 'FUZZ PROPERTY FAILED' \
                      -e 'Fatal error' -e 'Program crashed: [A-Za-z ]*' "$log" || true)
        reason=${reason% at }
        echo "fuzz $t: FAILED (exit $status: ${reason:-see log}), input ${artifact:-none}, log $log" > "$work/summary-$t"
        # The message and the top frames (Swift's backtrace, else ASan's).
        grep -e 'Fatal error' -e 'FUZZ PROPERTY' -e 'Program crashed' -e 'ERROR:' -e ' in fuzz-' -e '#[0-9]* 0x.* in ' "$log" \
            | head -16 >&2 || true
    fi
}
for t in $TARGETS; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
    run_target "$t" &
done
wait
summary=()
for t in $TARGETS; do summary+=("$(cat "$work/summary-$t" 2>/dev/null || echo "fuzz $t: FAILED (no result)")"); done
echo "fuzz: total $(( $(date +%s) - started )) s (build $((built - started)) s)"
for line in "${summary[@]}"; do echo "$line"; done
# The plain closing line test reports are read by: targets that ran clean, targets that failed.
failures=0
for line in "${summary[@]}"; do case "$line" in *FAILED*) failures=$((failures + 1)) ;; esac; done
echo "fuzz: $(( ${#summary[@]} - failures )) passed, $failures failed"
[ "$failures" -eq 0 ]
