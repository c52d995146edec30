#!/usr/bin/env bash
# Dashboard API latency under 16 concurrent clients (wrk -c16), against a compacted warehouse,
# with the DuckDB anchor: the same chart computed by DuckDB from the same Parquet files.
# Usage: Benchmarks/api/run.sh <data dir> [seconds]   (the data dir needs projects.json + warehouse)
# Runs each URL three ways: the default server (rollups and the answer cache), rollups with the
# cache off (`serve --answer-cache-mb 0`: every request computes and renders), and DuckDB.
set -euo pipefail
cd "$(dirname "$0")/../.."
data=$1
seconds=${2:-10}
bin=${TRACKHOUSE_BIN:-$(scripts/swift-release.sh bin-path)/trackhouse}
py=${TRACKHOUSE_PYTHON:-.venv/bin/python}
token=$("$bin" token create --admin --data "$data" | grep -oE 'th_[0-9a-f]+' | head -1)
# The project with the most sites.
project=$("$bin" query --data "$data" --format csv "SELECT project_id FROM sites GROUP BY 1 ORDER BY count(*) DESC LIMIT 1" | tail -1)
to=$($py -c "import duckdb;print(duckdb.sql(\"select strftime(max(last_seen) + interval 1 hour, '%Y-%m-%dT%H:00:00Z') from read_parquet('$data/warehouse/sites/**/*.parquet')\").fetchall()[0][0])")
from90=$(python3 -c "import datetime as d;t=d.datetime.fromisoformat('$to'.replace('Z','+00:00'));print((t-d.timedelta(days=90)).strftime('%Y-%m-%dT%H:%M:%SZ'))")
from365=$(python3 -c "import datetime as d;t=d.datetime.fromisoformat('$to'.replace('Z','+00:00'));print((t-d.timedelta(days=365)).strftime('%Y-%m-%dT%H:%M:%SZ'))")
sites=$("$bin" query --data "$data" --format csv "SELECT count(*) FROM sites WHERE project_id = '$project'" | tail -1)
events=$("$bin" query --data "$data" --format csv "SELECT count(*) FROM events" | tail -1)
echo "data: $events events; project $project with $sites sites; ranges end $to; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

serve() { # $1 = answer cache MiB
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$bin" serve --data "$data" --port "$port" --role query --compact-interval 0 --answer-cache-mb "$1" --log-level warning &
  server=$!
  for _ in $(seq 600); do
    curl -sf "http://127.0.0.1:$port/healthz" | grep -q '"ready":true' && break
    sleep 0.5
  done
  echo "server up, rollups: $(curl -sf "http://127.0.0.1:$port/healthz" | $py -c 'import json,sys; r=json.load(sys.stdin)["rollups"]; print("built in", r["last_build_seconds"], "s,", r["events"], "events")'), RSS $(ps -o rss= -p $server | awk '{printf "%.0f MB", $1/1024}')"
  base="http://127.0.0.1:$port/api/v1/projects/$project"
}

paths() {
  for range in 90d:$from90 1y:$from365; do
    name=${range%%:*}; from=${range#*:}
    for path in "stats?from=$from&to=$to" "timeseries?metric=events&interval=day&from=$from&to=$to" \
                "timeseries?metric=sites&interval=week&from=$from&to=$to" \
                "timeseries?metric=new_sites&interval=day&from=$from&to=$to" \
                "timeseries?metric=events&interval=day&from=$from&to=$to&breakdown=php_minor&limit=10" \
                "timeseries?metric=sites&interval=week&from=$from&to=$to&breakdown=wp_version&limit=10" \
                "deactivations?from=$from&to=$to&per_page=50"; do
      echo "$name $path"
    done
  done
  echo "- breakdown?dim=php_minor&at=$to&active_days=14&limit=20"
  echo "- breakdown?dim=wp_locale&at=$to&active_days=30&limit=20"
  echo "- sites?status=active&wp_locale=de_DE&sort=-first_seen&page=3&per_page=50"
  echo "- sites?status=active&sort=-last_seen&page=15000&per_page=50"
}

for cache in on off; do
  if [ $cache = on ]; then
    echo "== rollups with the answer cache (the default server) =="
    serve 64
  else
    echo "== rollups, answer cache off: every request computes its answer and renders it =="
    serve 0
  fi
  paths | while read -r name path; do
    curl -sf -H "Authorization: Bearer $token" "$base/$path" > /dev/null  # warm (sort orders, first computation)
    printf '%-3s %-95s ' "$name" "$path"
    TOKEN=$token wrk -t2 -c16 -d"${seconds}s" --timeout 30s --latency -s Benchmarks/api/get.lua "$base/$path" | grep RESULT
  done
  kill $server; wait $server 2>/dev/null || true
done

echo "== DuckDB: the same charts from the same Parquet files (1 connection, median of 5) =="
$py Benchmarks/api/duckdb_charts.py "$data" "$project" "$from90" "$from365" "$to"
