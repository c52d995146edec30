#!/usr/bin/env bash
# The one way to build the release product, so the binary `make test` runs is the one
# `make demo` and `make dist` ship (and the benchmarks measure):
#   - the Swift runtime and Foundation linked statically (`--static-swift-stdlib`, SwiftPM's
#     flag; `-static-stdlib` in Package.swift's unsafeFlags leaves CoreFoundation's symbols
#     undefined);
#   - zstd and zlib from their static archives: SwiftPM takes the link flags of CZstd and CZlib
#     from pkg-config (`libzstd`, `zlib`); PKG_CONFIG_PATH points it at .pc files whose only
#     library folder holds libzstd.a and libz.a and no .so, so `-lzstd` / `-lz` find the archives.
# What is left dynamic: the C library (libc, libm), libstdc++/libgcc_s (the Swift runtime's
# C++ parts) — see README.md "Install".
#   - `--no-export-dynamic`: the Swift driver exports every symbol of an executable (42k in
#     .dynsym), which only `dladdr` and the dynamic linker read; each process start paid for
#     them (~1 ms of a ~5-ms `trackhouse query`: BENCHMARKS.md "Query start"). Backtraces
#     read the file's own symbol table, which is kept.
#   - `-disable-concrete-type-metadata-mangled-name-accessors`: the metadata of a concrete
#     generic type (`Set<String>`'s storage, `Dictionary<Int, Int>`'s) is made by a direct
#     accessor that passes its conformances, instead of demangling its name at first use,
#     which looks each conformance up by scanning all ~9,800 conformance records of the
#     binary: ~1.3 ms of every `trackhouse query` process (BENCHMARKS.md "Query start"). The
#     code generated is otherwise the same.
# Usage: scripts/swift-release.sh build [PRODUCT]   (default: trackhouse)
#        scripts/swift-release.sh bin-path
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
static_libs="$PWD/.build/static-libs"
flags=(-c release --static-swift-stdlib -Xlinker --no-export-dynamic
       -Xswiftc -Xfrontend -Xswiftc -disable-concrete-type-metadata-mangled-name-accessors)
export PKG_CONFIG_PATH="$static_libs/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
case "${1:-build}" in
  build)
    scripts/build-info.sh
    mkdir -p "$static_libs"
    for archive in libzstd.a libz.a; do
      path=""
      for compiler in cc clang gcc; do
        candidate=$("$compiler" -print-file-name="$archive" 2>/dev/null || true)
        if [ -f "$candidate" ]; then path=$candidate; break; fi
      done
      [ -n "$path" ] || { echo "no $archive: install libzstd-dev and zlib1g-dev (scripts/ensure-system-packages.sh)" >&2; exit 1; }
      ln -sf "$path" "$static_libs/$archive"
    done
    mkdir -p "$static_libs/pkgconfig"
    printf 'libdir=%s\nName: libzstd\nDescription: zstd from its static archive\nVersion: %s\nLibs: -L${libdir} -lzstd\nCflags:\n' \
      "$static_libs" "$(pkg-config --modversion libzstd)" > "$static_libs/pkgconfig/libzstd.pc"
    printf 'libdir=%s\nName: zlib\nDescription: zlib from its static archive\nVersion: %s\nLibs: -L${libdir} -lz\nCflags:\n' \
      "$static_libs" "$(pkg-config --modversion zlib)" > "$static_libs/pkgconfig/zlib.pc"
    "$SWIFT" build "${flags[@]}" --product "${2:-trackhouse}"
    ;;
  bin-path)
    "$SWIFT" build "${flags[@]}" --show-bin-path
    ;;
  *) echo "usage: $0 build [PRODUCT] | bin-path" >&2; exit 2 ;;
esac
