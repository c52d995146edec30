#!/usr/bin/env bash
# Compaction throughput: `trackhouse compact` vs DuckDB's
#   COPY (SELECT … FROM read_json(…)) TO '….parquet' (FORMAT parquet, COMPRESSION zstd)
# on the same raw files, at 1 and 2 threads. Reports raw MB/s, events/s and output bytes/event.
# Two DuckDB statements: "same" does the same work as ours (duckdb_same_work.py: the CONTRACT
# §4 rules, registry join, id dedupe, events partitioned by project and month plus the sites
# table; its columns are checked equal to ours once per run), "flat" only flattens 21 payload
# fields into one file (no rules, no dedupe, no sites): a lighter job, kept as a floor.
# Usage: Benchmarks/compaction/run.sh [sites] [weeks]     (default 20000 sites, 52 weeks)
set -euo pipefail
cd "$(dirname "$0")/../.."
sites=${1:-20000}
weeks=${2:-52}
bin=${TRACKHOUSE_BIN:-$(scripts/swift-release.sh bin-path)/trackhouse}   # TRACKHOUSE_BIN=… to compare binaries
py=.venv/bin/python
work=$(mktemp -d /tmp/trackhouse-bench-compact.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$bin" gen --out "$work/src" --projects 3 --sites "$sites" --weeks "$weeks" --seed 1 --quiet --json > "$work/gen.json"
raw_bytes=$(du -sb "$work/src/raw" | cut -f1)
echo "dataset: $(cat "$work/gen.json")"
echo "raw bytes: $raw_bytes"
for threads in 1 2; do
  rm -rf "$work/ours"; cp -a "$work/src" "$work/ours"
  # taskset pins our compactor to the given core count (it parses raw files and encodes
  # segments on min(2, cores) threads; the output is the same files either way).
  cpus=$([ "$threads" = 1 ] && echo 0 || echo 0-1)
  /usr/bin/time -f "%e %M %U %S" -o "$work/time.txt" taskset -c "$cpus" "$bin" compact --data "$work/ours" --quiet --json --seal-grace 0 > "$work/ours.json"
  read -r seconds rss_kb user_s sys_s < "$work/time.txt"
  events=$($py -c "import json;print(json.load(open('$work/ours.json'))['events_out'])")
  # Live segments only: replaced files stay a while as hidden `.replaced-…` copies (see Compactor.retire).
  events_bytes=$(find "$work/ours/warehouse/events" -name "*.parquet" ! -name ".*" -printf "%s\n" | awk "{s+=\$1} END {print s}")
  sites_bytes=$(find "$work/ours/warehouse/sites" -name "*.parquet" ! -name ".*" -printf "%s\n" | awk "{s+=\$1} END {print s}")
  $py - <<PY
print("ours        threads=$threads seconds=%.2f raw_MB_s=%.1f events_s=%.0f events_bytes_per_event=%.1f with_sites=%.1f rss_MB=%.0f cpu_s=%.2f" % (
    $seconds, $raw_bytes / 1e6 / $seconds, $events / $seconds, $events_bytes / $events, ($events_bytes + $sites_bytes) / $events,
    $rss_kb / 1024, $user_s + $sys_s))
PY
  # DuckDB, same work (the first run also checks that its tables equal ours, column by column).
  check=$([ "$threads" = 1 ] && echo "--check $work/ours" || true)
  rm -rf "$work/duck-same"
  $py Benchmarks/compaction/duckdb_same_work.py "$work/src" "$work/duck-same" "$threads" $check > "$work/same.json"
  $py - "$raw_bytes" "$events" "$threads" "$work/same.json" <<'PY'
import json, sys
raw_bytes, events, threads, result = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), json.load(open(sys.argv[4]))
seconds = result["seconds"]
print("duckdb_same threads=%d seconds=%.2f raw_MB_s=%.1f events_s=%.0f events_bytes_per_event=%.1f with_sites=%.1f events=%d%s" % (
    threads, seconds, raw_bytes / 1e6 / seconds, events / seconds, result["events_bytes"] / events,
    (result["events_bytes"] + result["sites_bytes"]) / events, result["events"],
    (" check=" + json.dumps(result["check"])) if "check" in result else ""))
PY
  # DuckDB: the same raw files to one zstd Parquet file, flattening the payload to the same columns.
  $py - "$work" "$threads" "$raw_bytes" "$events" <<'PY'
import duckdb, sys, time, os
work, threads, raw_bytes, events = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
con = duckdb.connect()
con.execute(f"SET threads={threads}")
con.execute("SET TimeZone='UTC'")
out = f"{work}/duck.parquet"
started = time.time()
con.execute(f"""
COPY (
  SELECT id AS event_id, CAST(received_at AS TIMESTAMP) AS received_at, route AS event,
         payload->>'url' AS url, payload->>'site' AS site_name, payload->>'admin_email' AS admin_email,
         payload->>'first_name' AS first_name, payload->>'last_name' AS last_name, payload->>'ip_address' AS ip_address,
         coalesce(payload->>'project_version', payload->>'version') AS project_version, payload->>'client' AS client_version,
         payload->'server'->>'software' AS server_software, payload->'server'->>'php_version' AS php_version,
         payload->'server'->>'mysql_version' AS mysql_version, payload->'wp'->>'version' AS wp_version,
         payload->'wp'->>'locale' AS wp_locale, payload->'wp'->>'theme_slug' AS wp_theme_slug,
         TRY_CAST(payload->'users'->>'total' AS BIGINT) AS users_total,
         TRY_CAST(payload->>'active_plugins' AS BIGINT) AS active_plugins,
         payload->>'reason_id' AS reason_id, CAST(payload->'plugins' AS VARCHAR) AS plugins
  FROM read_json('{work}/src/raw/**/*.ndjson', format='newline_delimited',
                 columns={{'id':'VARCHAR','received_at':'VARCHAR','route':'VARCHAR','ip':'VARCHAR','user_agent':'VARCHAR','payload':'JSON'}})
) TO '{out}' (FORMAT parquet, COMPRESSION zstd)""")
seconds = time.time() - started
size = os.path.getsize(out)
print("duckdb_flat threads=%d seconds=%.2f raw_MB_s=%.1f events_s=%.0f out_bytes_per_event=%.1f (21 of 45 columns, no dedupe, no sites)" % (
    threads, seconds, raw_bytes / 1e6 / seconds, events / seconds, size / events))
PY
done
