#!/usr/bin/env bash
# Scale scenario (issue 19): one big plugin's history, then a server over it while events flow.
#   1. `trackhouse gen --projects 1 --sites S --weeks W --seed 5 --end now` (raw NDJSON as sent);
#   2. `trackhouse compact` of the whole backlog: seconds, raw MB/s, peak RSS, output bytes, and
#      the seconds of its last step, saving the chart rollups' state file for `serve`'s start;
#   3. `serve_under_load.py`: start time and RSS, RSS under ~10 events/s, every compaction cycle
#      while events flow, freshness (POST → visible to SQL), uncached and cached chart p50/p99.
#   2a. with TRACKHOUSE_SCALE_DUCKDB=1, the anchor in the same run: DuckDB 2.0.1 doing the same
#      conversion (Benchmarks/compaction/duckdb_same_work.py, 2 threads) on the same raw files.
# Usage: Benchmarks/scale/run.sh [sites=1000000] [weeks=8] [load_seconds=120]
# TRACKHOUSE_SCALE_DIR puts the (large: ~1.5 GB per million events) data elsewhere than /tmp.
# TRACKHOUSE_SCALE_RAW=<data folder> reuses a data folder `gen` made earlier with the same
# arguments (hard-linked, never modified) instead of generating it again (minutes at 1M sites).
set -euo pipefail
cd "$(dirname "$0")/../.."
sites=${1:-1000000}
weeks=${2:-8}
seconds=${3:-120}
bin=${TRACKHOUSE_BIN:-$(scripts/swift-release.sh bin-path)/trackhouse}
py=${TRACKHOUSE_PYTHON:-.venv/bin/python}
work=$(mktemp -d "${TRACKHOUSE_SCALE_DIR:-/tmp}/trackhouse-scale.XXXXXX")
# TRACKHOUSE_SCALE_KEEP=1 keeps the folder (its path is printed) for measuring again.
trap '[ "${TRACKHOUSE_SCALE_KEEP:-0}" = 1 ] || rm -rf "$work"' EXIT
echo "scale: sites=$sites weeks=$weeks load_seconds=$seconds nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg) work=$work"
if [ -n "${TRACKHOUSE_SCALE_RAW:-}" ]; then
  # Raw files are never modified in place (sealing and erase write new files), so a hard-linked
  # copy leaves the source as it was.
  cp -al "$TRACKHOUSE_SCALE_RAW" "$work/data"
  rm -rf "$work/data/warehouse"
  echo "gen: reused $TRACKHOUSE_SCALE_RAW"
else
  /usr/bin/time -f "%e %M" -o "$work/gen.time" "$bin" gen --out "$work/data" --projects 1 --sites "$sites" --weeks "$weeks" --seed 5 --end now --quiet --json > "$work/gen.json"
  echo "gen: $(cat "$work/gen.json") seconds=$(cut -d' ' -f1 "$work/gen.time")"
fi
raw_bytes=$(du -sb "$work/data/raw" | cut -f1)
echo "raw_bytes=$raw_bytes"
/usr/bin/time -f "%e %M %U %S" -o "$work/compact.time" "$bin" compact --data "$work/data" --quiet --json --seal-grace 0 > "$work/compact.json"
read -r seconds_c rss_kb user_s sys_s < "$work/compact.time"
events=$($py -c "import json;print(json.load(open('$work/compact.json'))['events_out'])")
rollups_s=$($py -c "import json;print(json.load(open('$work/compact.json')).get('rollups', {}).get('seconds', 0))")
live_bytes=$(find "$work/data/warehouse" -name "*.parquet" ! -name ".*" -printf "%s\n" | awk '{s+=$1} END {print s}')
all_bytes=$(du -sb "$work/data/warehouse" | cut -f1)
$py -c "print('compact: events=%d seconds=%.1f (of which saving the rollups %.1f) raw_MB_s=%.1f rss_MB=%.0f cpu_s=%.1f live_parquet_MB=%.0f warehouse_on_disk_MB=%.0f' % ($events, $seconds_c, $rollups_s, $raw_bytes/1e6/$seconds_c, $rss_kb/1024, $user_s+$sys_s, $live_bytes/1e6, $all_bytes/1e6))"
if [ "${TRACKHOUSE_SCALE_DUCKDB:-0}" = 1 ]; then
  $py Benchmarks/compaction/duckdb_same_work.py "$work/data" "$work/duck" 2 > "$work/duck.json"
  # DuckDB's conversion writes no chart state: the throughput ratio is given for the conversion
  # alone (compact's seconds less its rollups step) and for the whole command.
  $py - "$raw_bytes" "$events" "$seconds_c" "$rollups_s" "$live_bytes" "$work/duck.json" <<'PY'
import json, sys
raw_bytes, events, ours_s, rollups_s, ours_bytes, result = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), json.load(open(sys.argv[6]))
print("duckdb_same threads=2 seconds=%.1f raw_MB_s=%.1f bytes=%d ours/duckdb throughput=%.2f (whole compact command %.2f) ours/duckdb bytes=%.2f" % (
    result["seconds"], raw_bytes / 1e6 / result["seconds"], result["events_bytes"] + result["sites_bytes"],
    result["seconds"] / (ours_s - rollups_s), result["seconds"] / ours_s, ours_bytes / (result["events_bytes"] + result["sites_bytes"])))
PY
  rm -rf "$work/duck"
fi
$py Benchmarks/scale/serve_under_load.py "$bin" "$work/data" --seconds "$seconds"
