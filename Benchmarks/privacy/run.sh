#!/usr/bin/env bash
# Erase of one subject on a generated, compacted warehouse: time, what it rewrote and what it
# read, with the erase index (`<data>/warehouse/_keys`, written by compaction) and without it
# (the index removed: a warehouse compacted before the index existed).
# Usage: Benchmarks/privacy/run.sh [SITES] [WEEKS]   (TRACKHOUSE_BIN: the release binary)
#        DATA=<compacted data folder> Benchmarks/privacy/run.sh   (reuse one, e.g. the issue's
#        1M sites / 10M events: `gen --projects 1 --sites 1000000 --weeks 18 --seed 5` + `compact`;
#        it is erased from and its `_keys` removed, so use a copy you can throw away)
# The default size fits a shared 2-core machine in a few minutes.
set -euo pipefail
SITES=${1:-20000}
WEEKS=${2:-12}
BIN=${TRACKHOUSE_BIN:-$(swift build -c release --show-bin-path)/trackhouse}
PY=${TRACKHOUSE_PYTHON:-python3}
if [ -n "${DATA:-}" ]; then
  D=$DATA
else
  WORK=$(mktemp -d /tmp/trackhouse-privacy-bench.XXXXXX)
  trap 'rm -rf "$WORK"' EXIT
  D=$WORK/data
  "$BIN" gen --out "$D" --sites "$SITES" --weeks "$WEEKS" --seed 7 --quiet
  /usr/bin/time -f "compact: %e s wall, %U s user, %M KB peak" "$BIN" compact --data "$D" --quiet
fi
q() { "$BIN" query --data "$D" --format jsonl "$1"; }
# Subjects: the 3 admin emails with the most events of the largest project, and 3 site keys.
PROJECT=$(q "SELECT project_id, count(*) AS n FROM events GROUP BY 1 ORDER BY n DESC LIMIT 1" | "$PY" -c 'import json,sys; print(json.loads(sys.stdin.readline())["project_id"])')
mapfile -t EMAILS < <(q "SELECT lower(admin_email) AS e, count(*) AS n FROM events WHERE project_id = '$PROJECT' AND admin_email IS NOT NULL GROUP BY 1 ORDER BY n DESC, e LIMIT 3" \
  | "$PY" -c 'import json,sys; [print(json.loads(l)["e"]) for l in sys.stdin]')
mapfile -t SITEKEYS < <(q "SELECT site_key FROM sites WHERE project_id = '$PROJECT' ORDER BY site_key LIMIT 3 OFFSET 1000" \
  | "$PY" -c 'import json,sys; [print(json.loads(l)["site_key"]) for l in sys.stdin]')
EVENTS=$(q "SELECT count(*) AS n FROM events" | "$PY" -c 'import json,sys; print(json.loads(sys.stdin.readline())["n"])')
echo "data: events=$EVENTS raw_files=$(find "$D/raw" -name '*.ndjson*' | wc -l) raw_bytes=$(du -sb "$D/raw" | cut -f1)" \
  "parquet_files=$(find "$D/warehouse" -name '*.parquet' | wc -l) parquet_bytes=$(find "$D/warehouse" -name '*.parquet' -printf '%s\n' | awk '{s+=$1} END {print s}')" \
  "index_files=$(find "$D/warehouse/_keys" -name '*.keys' 2>/dev/null | wc -l) index_bytes=$(du -sb "$D/warehouse/_keys" 2>/dev/null | cut -f1)"
erase() {  # label, selector, value
  local start end out
  start=$(date +%s.%N)
  out=$("$BIN" privacy erase --data "$D" --project "$PROJECT" "$2" "$3")
  end=$(date +%s.%N)
  printf '%s: %.2f s wall: %s\n' "$1" "$(echo "$end - $start" | bc)" "$out"
}
erase "with index, one site" --site "${SITEKEYS[0]}"
erase "with index, the most frequent email" --email "${EMAILS[0]}"
erase "with index, the same email again (nothing left)" --email "${EMAILS[0]}"
rm -rf "$D/warehouse/_keys"
erase "without index, one site (builds the segment indexes)" --site "${SITEKEYS[1]}"
erase "without index, the 2nd most frequent email" --email "${EMAILS[1]}"
erase "segment indexes only (raw files unindexed), one site" --site "${SITEKEYS[2]}"
