#!/usr/bin/env bash
# Builds and runs Benchmarks/ingest/formcheck: FormTranscoder vs FormParser equivalence fuzz and
# the per-request CPU of the form decode + envelope line (old vs new path).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${TMPDIR:-/tmp}/trackhouse-formcheck
mkdir -p "$out"
python3 Benchmarks/ingest/body.py 0123456789abcdef0123456789abcdef > "$out/body.txt"
S=Sources/Ingest
swiftc -O -wmo -module-name Ingest -o "$out/formcheck" \
  $S/Body/*.swift $S/JSON/*.swift $S/Envelope/*.swift $S/Service/EventID.swift $S/Service/IngestText.swift $S/Support/RawBytes.swift \
  Benchmarks/ingest/formcheck/main.swift 2>&1 | grep -v warning || true
"$out/formcheck" "$out/body.txt"
