#!/usr/bin/env bash
# Dashboard API latency under 16 concurrent clients (wrk), against a compacted warehouse.
# Usage: Benchmarks/api/run.sh <data dir> [seconds]   (the data dir needs projects.json + warehouse)
set -euo pipefail
cd "$(dirname "$0")/../.."
data=$1
seconds=${2:-10}
bin=${TRACKHOUSE_BIN:-$(swift build -c release --show-bin-path)/trackhouse}
token=$("$bin" token create --admin --data "$data" | grep -oE 'th_[0-9a-f]+' | head -1)
project=$(python3 -c "import json;print(json.load(open('$data/projects.json'))['projects'][0]['id'])")
to=$(.venv/bin/python -c "import duckdb;print(duckdb.sql(\"select strftime(max(last_seen) + interval 1 hour, '%Y-%m-%dT%H:00:00Z') from read_parquet('$data/warehouse/sites/**/*.parquet')\").fetchall()[0][0])")
from90=$(python3 -c "import datetime as d;t=d.datetime.fromisoformat('$to'.replace('Z','+00:00'));print((t-d.timedelta(days=90)).strftime('%Y-%m-%dT%H:%M:%SZ'))")
from365=$(python3 -c "import datetime as d;t=d.datetime.fromisoformat('$to'.replace('Z','+00:00'));print((t-d.timedelta(days=365)).strftime('%Y-%m-%dT%H:%M:%SZ'))")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --data "$data" --port "$port" --role query --compact-interval 0 --log-level warning &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$port/api/v1/projects/$project"
echo "project $project, to $to"
for range in 90d:$from90 1y:$from365; do
  name=${range%%:*}; from=${range#*:}
  for path in "stats?from=$from&to=$to" "timeseries?metric=events&interval=day&from=$from&to=$to" \
              "timeseries?metric=sites&interval=week&from=$from&to=$to" \
              "timeseries?metric=events&interval=day&from=$from&to=$to&breakdown=php_minor&limit=10" \
              "breakdown?dim=php_minor&at=$to&active_days=14&limit=20" \
              "deactivations?from=$from&to=$to&per_page=50"; do
    printf '%s %s ' "$name" "${path%%\?*}$(echo "$path" | grep -oE 'metric=[a-z_]+|breakdown=[a-z_]+|dim=[a-z_]+' | tr '\n' ' ')"
    TOKEN=$token wrk -t2 -c16 -d"${seconds}s" --timeout 30s --latency -s Benchmarks/api/get.lua "$base/$path" | grep RESULT
  done
done
printf 'sites page (filter + sort) '
TOKEN=$token wrk -t2 -c16 -d"${seconds}s" --timeout 30s --latency -s Benchmarks/api/get.lua "$base/sites?status=active&wp_locale=de_DE&sort=-first_seen&page=3&per_page=50" | grep RESULT
