#!/usr/bin/env bash
# Packs the release binary (build it first: `make release`; `make dist` does both) into
# dist/trackhouse-<version>-linux-<arch>.tar.gz with README.md, LICENSE (if any), the systemd
# unit and an example config. Packaging only: the binary is the one `make test` tests.
# Usage: scripts/dist.sh          build the tarball, print its path
#        scripts/dist.sh --path   print the path it has (or would have), build nothing
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(scripts/swift-release.sh bin-path)/trackhouse"
[ -x "$bin" ] || { echo "$bin is not built: run make release" >&2; exit 1; }
version=$(grep -m1 'static let version = ' Sources/trackhouse/Trackhouse.swift | sed 's/.*"\(.*\)".*/\1/')
name="trackhouse-$version-linux-$(uname -m)"
tarball="$PWD/dist/$name.tar.gz"
if [ "${1:-}" = "--path" ]; then echo "$tarball"; exit 0; fi
stage="dist/stage/$name"
rm -rf "dist/stage"
mkdir -p "$stage/bin"
cp "$bin" "$stage/bin/trackhouse"
cp README.md dist/trackhouse.service dist/trackhouse.example.json "$stage/"
for license in LICENSE LICENSE.md COPYING; do [ -f "$license" ] && cp "$license" "$stage/"; done
# Reproducible bytes for the same inputs: fixed owner, order and times.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2026-01-01 00:00:00Z' \
  -C dist/stage -czf "$tarball.tmp" "$name"
mv "$tarball.tmp" "$tarball"
rm -rf dist/stage
echo "$tarball"
