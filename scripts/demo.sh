#!/usr/bin/env bash
# make demo: seeds DATA with a generated year of telemetry (first run only), compacts it,
# and serves on localhost.
set -euo pipefail
data=${1:-./data}
port=${2:-8080}
bin=$("$(dirname "$0")/swift-release.sh" bin-path)/trackhouse
if [ ! -d "$data/raw" ]; then
  echo "seeding $data with a generated year of heartbeats (3 projects, 3,000 sites)..."
  "$bin" gen --out "$data" --projects 3 --sites 3000 --weeks 52 --seed 1 --end now
fi
"$bin" demo-setup --data "$data"
"$bin" compact --data "$data" --include-open --quiet
echo
echo "Trackhouse is starting on http://127.0.0.1:$port"
echo "  dashboard: http://127.0.0.1:$port/#token=$(cat "$data/.demo-token")"
echo "  health:  curl http://127.0.0.1:$port/healthz"
echo "  SQL:     $bin query --data $data \"SELECT event, count(*) FROM events GROUP BY 1\""
echo "  ingest:  curl -X POST http://127.0.0.1:$port/track --data 'hash=<project hash above>&url=https://example.com'"
echo
exec "$bin" serve --data "$data" --port "$port"
