#!/usr/bin/env bash
# Long history (issue 19): does every cost grow with the work, not with the history behind it?
# Builds years of one big plugin's history the way an operator's server lives through them, in
# chunks that fit the disk, oldest first:
#   1. `trackhouse gen --projects 1 --sites S --weeks W --seed 5 --end <chunk end>` (the same
#      sites and registry every chunk, event ids unique by time);
#   2. the chunk's raw hours join the data folder, `trackhouse compact --raw-retention-days 0`
#      compacts them onto the warehouse holding every earlier chunk and drops the raw files;
#      per chunk: events in, seconds, raw MB/s, peak RSS, warehouse bytes, history behind it;
#   3. at the end `serve_under_load.py` over the whole history: start, RSS, compaction cycles,
#      freshness, chart p50/p99 (the rollups' window holds the newest --rollup-days, 120).
# Flat per-chunk compaction seconds and a server that does not grow with the chunks are the
# claim; a chunk's seconds rising with the history behind it would refute it.
# Usage: Benchmarks/scale/history.sh [sites=1000000] [weeks_per_chunk=34] [chunks=7] [load_seconds=120]
# Disk: one chunk's raw files (~1.5 GB per million events) plus the warehouse (~0.1 GB per
# million events). TRACKHOUSE_SCALE_DIR puts them elsewhere than /tmp; TRACKHOUSE_SCALE_KEEP=1
# keeps the folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
sites=${1:-1000000}
weeks=${2:-34}
chunks=${3:-7}
seconds=${4:-120}
bin=${TRACKHOUSE_BIN:-$(scripts/swift-release.sh bin-path)/trackhouse}
py=${TRACKHOUSE_PYTHON:-.venv/bin/python}
work=$(mktemp -d "${TRACKHOUSE_SCALE_DIR:-/tmp}/trackhouse-history.XXXXXX")
trap '[ "${TRACKHOUSE_SCALE_KEEP:-0}" = 1 ] || rm -rf "$work"' EXIT
echo "history: sites=$sites weeks_per_chunk=$weeks chunks=$chunks load_seconds=$seconds nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg) $("$bin" --version) work=$work"
mkdir -p "$work/data/raw"
now_hour=$(( $(date -u +%s) / 3600 * 3600 ))
history_events=0
for (( i = chunks - 1; i >= 0; i-- )); do
  end=$(date -u -d "@$(( now_hour - i * weeks * 7 * 86400 ))" +%Y-%m-%dT%H:%M:%SZ)
  "$bin" gen --out "$work/gen" --projects 1 --sites "$sites" --weeks "$weeks" --seed 5 --end "$end" --quiet --json > "$work/gen.json"
  [ -f "$work/data/projects.json" ] || cp "$work/gen/projects.json" "$work/data/projects.json"
  cmp -s "$work/gen/projects.json" "$work/data/projects.json" || { echo "gen wrote another registry" >&2; exit 1; }
  raw_bytes=$(du -sb "$work/gen/raw" | cut -f1)
  # Hard links: the chunk's hours join the tree without copying bytes.
  cp -al "$work/gen/raw/." "$work/data/raw/"
  rm -rf "$work/gen"
  /usr/bin/time -f "%e %M %U %S" -o "$work/compact.time" "$bin" compact --data "$work/data" --quiet --json --seal-grace 0 --raw-retention-days 0 > "$work/compact.json"
  read -r seconds_c rss_kb user_s sys_s < "$work/compact.time"
  events=$($py -c "import json;print(json.load(open('$work/compact.json'))['events_out'])")
  warehouse_bytes=$(du -sb "$work/data/warehouse" | cut -f1)
  raw_left=$(find "$work/data/raw" -type f | wc -l)
  $py -c "print('chunk end=%s history_events_before=%d events=%d seconds=%.1f raw_MB_s=%.1f rss_MB=%.0f cpu_s=%.1f warehouse_MB=%.0f raw_files_left=%d' % ('$end', $history_events, $events, $seconds_c, $raw_bytes/1e6/$seconds_c, $rss_kb/1024, $user_s+$sys_s, $warehouse_bytes/1e6, $raw_left))"
  history_events=$(( history_events + events ))
done
echo "history_events=$history_events rollups_state_MB=$(du -sm "$work/data/rollups" | cut -f1)"
$py Benchmarks/scale/serve_under_load.py "$bin" "$work/data" --seconds "$seconds"
