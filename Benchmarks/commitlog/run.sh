#!/usr/bin/env bash
# Commit log growth: a reader's cost (load the log, then count events) with N commits in
# `_log` and no checkpoint, then after a compaction writes one, and DuckDB counting the same
# Parquet files (its start-up and glob) as the anchor.
# Usage: Benchmarks/commitlog/run.sh [commits]   (default 60000: ~10 days of `serve` at one
# compaction per 15 s while data arrives). Needs a release build and .venv (make test).
set -euo pipefail
cd "$(dirname "$0")/../.."
commits=${1:-60000}
bin=${TRACKHOUSE_BIN:-$(scripts/swift-release.sh bin-path)/trackhouse}
python=${TRACKHOUSE_PYTHON:-.venv/bin/python}
work=$(mktemp -d /tmp/trackhouse-bench-log.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$bin" gen --out "$work/data" --sites 2000 --weeks 8 --quiet
"$bin" compact --data "$work/data" >/dev/null 2>&1
measure() { # label
  local best=999
  for _ in 1 2 3; do
    local t; t=$( { /usr/bin/time -f "%e" "$bin" query --data "$work/data" "SELECT count(*) FROM events" >/dev/null; } 2>&1 | tail -1)
    best=$(python3 -c "print(min($best, $t))")
  done
  echo "$1 log_files=$(ls "$work/data/warehouse/_log" | wc -l) query_seconds_best_of_3=$best"
}
measure "one_commit_baseline"
add_commits() { # count
# Empty commits (one raw progress entry each), as many small compactions of new lines write.
"$python" - "$work/data/warehouse/_log" "$1" <<'PY'
import json, os, sys
log, count = sys.argv[1], int(sys.argv[2])
first = max(int(n[:-5]) for n in os.listdir(log) if n.endswith(".json") and n[:-5].isdigit()) + 1
for version in range(first, first + count):
    commit = {"version": version, "timestamp": "2026-11-30T00:00:00Z", "operation": "compact", "add": [], "remove": [],
              "raw": [{"key": "track/2026/11/30/%02d/w-%06d.ndjson" % (version % 24, version % 72), "bytes": version, "complete": False}]}
    with open(os.path.join(log, "%020d.json" % version), "w") as f:
        f.write(json.dumps(commit) + "\n")
PY
}
add_commits "$commits"
measure "before_checkpoint"
"$bin" compact --data "$work/data" >/dev/null 2>&1   # writes the first checkpoint
measure "after_checkpoint"
# 100 more commits and the next compaction: the second checkpoint removes what the first covers.
add_commits 100
"$bin" compact --data "$work/data" >/dev/null 2>&1
measure "after_second_checkpoint"
"$python" - "$work/data" <<'PY'
import sys, time, duckdb
start = time.time()
n = duckdb.sql(f"select count(*) from read_parquet('{sys.argv[1]}/warehouse/events/**/*.parquet', hive_partitioning=true)").fetchall()[0][0]
print("duckdb count=%d seconds=%.2f" % (n, time.time() - start))
PY
