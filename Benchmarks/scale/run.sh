#!/usr/bin/env bash
# Scale scenario (issue 19): one big plugin's history, then a server over it while events flow.
#   1. `trackhouse gen --projects 1 --sites S --weeks W --seed 5 --end now` (raw NDJSON as sent);
#   2. `trackhouse compact` of the whole backlog: seconds, raw MB/s, peak RSS, output bytes;
#   3. `serve_under_load.py`: start time and RSS, RSS under ~10 events/s, every compaction cycle
#      while events flow, freshness (POST → visible to SQL), uncached and cached chart p50/p99.
# The compaction anchor (DuckDB doing the same conversion on the same raw files) is
# Benchmarks/compaction/run.sh; run it beside this one at the same size for the ratio.
# Usage: Benchmarks/scale/run.sh [sites=1000000] [weeks=8] [load_seconds=120]
# TRACKHOUSE_SCALE_DIR puts the (large: ~1.5 GB per million events) data elsewhere than /tmp.
set -euo pipefail
cd "$(dirname "$0")/../.."
sites=${1:-1000000}
weeks=${2:-8}
seconds=${3:-120}
bin=${TRACKHOUSE_BIN:-$(scripts/swift-release.sh bin-path)/trackhouse}
py=${TRACKHOUSE_PYTHON:-.venv/bin/python}
work=$(mktemp -d "${TRACKHOUSE_SCALE_DIR:-/tmp}/trackhouse-scale.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "scale: sites=$sites weeks=$weeks load_seconds=$seconds nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -f "%e %M" -o "$work/gen.time" "$bin" gen --out "$work/data" --projects 1 --sites "$sites" --weeks "$weeks" --seed 5 --end now --quiet --json > "$work/gen.json"
raw_bytes=$(du -sb "$work/data/raw" | cut -f1)
echo "gen: $(cat "$work/gen.json") seconds=$(cut -d' ' -f1 "$work/gen.time") raw_bytes=$raw_bytes"
/usr/bin/time -f "%e %M %U %S" -o "$work/compact.time" "$bin" compact --data "$work/data" --quiet --json --seal-grace 0 > "$work/compact.json"
read -r seconds_c rss_kb user_s sys_s < "$work/compact.time"
events=$($py -c "import json;print(json.load(open('$work/compact.json'))['events_out'])")
live_bytes=$(find "$work/data/warehouse" -name "*.parquet" ! -name ".*" -printf "%s\n" | awk '{s+=$1} END {print s}')
all_bytes=$(du -sb "$work/data/warehouse" | cut -f1)
$py -c "print('compact: events=%d seconds=%.1f raw_MB_s=%.1f rss_MB=%.0f cpu_s=%.1f live_parquet_MB=%.0f warehouse_on_disk_MB=%.0f' % ($events, $seconds_c, $raw_bytes/1e6/$seconds_c, $rss_kb/1024, $user_s+$sys_s, $live_bytes/1e6, $all_bytes/1e6))"
$py Benchmarks/scale/serve_under_load.py "$bin" "$work/data" --seconds "$seconds"
