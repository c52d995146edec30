#!/usr/bin/env bash
# Erase of one subject on a generated, compacted warehouse: time, and what it rewrote against
# what exists. Usage: Benchmarks/privacy/run.sh [SITES] [WEEKS]   (TRACKHOUSE_BIN: the release binary)
# The issue's target is 1M sites / 10M events (~14 GB of raw NDJSON); the default here is a
# size that fits a shared 2-core machine in a few minutes.
set -euo pipefail
SITES=${1:-20000}
WEEKS=${2:-12}
BIN=${TRACKHOUSE_BIN:-$(swift build -c release --show-bin-path)/trackhouse}
PY=${TRACKHOUSE_PYTHON:-python3}
WORK=$(mktemp -d /tmp/trackhouse-privacy-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
"$BIN" gen --out "$WORK/data" --sites "$SITES" --weeks "$WEEKS" --seed 7 --quiet
"$BIN" compact --data "$WORK/data" --quiet
# The subject: the admin_email of the most events in the largest project.
read -r PROJECT EMAIL < <("$BIN" query --data "$WORK/data" --format jsonl \
  "SELECT project_id, lower(admin_email) AS e, count(*) AS n FROM events WHERE admin_email IS NOT NULL GROUP BY 1, 2 ORDER BY n DESC, e LIMIT 1" \
  | "$PY" -c 'import json,sys; r=json.loads(sys.stdin.readline()); print(r["project_id"], r["e"])')
EVENTS=$("$BIN" query --data "$WORK/data" --format jsonl "SELECT count(*) AS n FROM events" | "$PY" -c 'import json,sys; print(json.loads(sys.stdin.readline())["n"])')
RAW_FILES=$(find "$WORK/data/raw" -name '*.ndjson*' | wc -l)
PARQUET_FILES=$(find "$WORK/data/warehouse" -name '*.parquet' | wc -l)
RAW_BYTES=$(du -sb "$WORK/data/raw" | cut -f1)
START=$(date +%s.%N)
SUMMARY=$("$BIN" privacy erase --data "$WORK/data" --project "$PROJECT" --email "$EMAIL" --json)
END=$(date +%s.%N)
echo "sites=$SITES weeks=$WEEKS events=$EVENTS raw_bytes=$RAW_BYTES raw_files=$RAW_FILES parquet_files=$PARQUET_FILES"
echo "erase: $SUMMARY seconds=$(echo "$END - $START" | bc)"
START=$(date +%s.%N)
"$BIN" privacy erase --data "$WORK/data" --project "$PROJECT" --email "$EMAIL" --json >/dev/null
END=$(date +%s.%N)
echo "second erase (nothing left): seconds=$(echo "$END - $START" | bc)"
# A typical subject: one site (the 1000th site key of that project), through --site.
SITE=$("$BIN" query --data "$WORK/data" --format jsonl \
  "SELECT site_key FROM sites WHERE project_id = '$PROJECT' ORDER BY site_key LIMIT 1 OFFSET 1000" \
  | "$PY" -c 'import json,sys; print(json.loads(sys.stdin.readline())["site_key"])')
START=$(date +%s.%N)
SUMMARY=$("$BIN" privacy erase --data "$WORK/data" --project "$PROJECT" --site "$SITE" --json)
END=$(date +%s.%N)
echo "erase one site: $SUMMARY seconds=$(echo "$END - $START" | bc)"
