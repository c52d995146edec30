#!/usr/bin/env bash
# Seeds a small warehouse, starts `trackhouse serve`, and (with --mock) the stand-in API of
# mock_api.py in front of it, then prints a sign-in URL for the dashboard. Ctrl-C stops both.
# Usage: Tests/browser/dev-server.sh [--mock] [DATA_DIR] [PORT]
set -euo pipefail
mock=0; [ "${1:-}" = "--mock" ] && { mock=1; shift; }
data="${1:-/tmp/trackhouse-dashboard-dev}"
port="${2:-8080}"
bin="${TRACKHOUSE_BIN:-$(swift build --show-bin-path)/trackhouse}"
token="th_devdashboard0000000000000000000000000000"
if [ ! -f "$data/projects.json" ]; then
  mkdir -p "$data"
  "$bin" gen --out "$data" --projects 2 --sites 200 --weeks 12 --end now --quiet
  "$bin" compact --data "$data" --include-open
  # An admin token, until `trackhouse token create` exists.
  python3 - "$data/projects.json" "$token" <<'PY'
import hashlib, json, sys
path, token = sys.argv[1], sys.argv[2]
registry = json.load(open(path))
registry["admin_tokens"] = [{"sha256": hashlib.sha256(token.encode()).hexdigest()}]
json.dump(registry, open(path, "w"))
PY
fi
pids=()
trap 'kill "${pids[@]}" 2>/dev/null' EXIT
"$bin" serve --data "$data" --port "$port" --log-level warning & pids+=($!)
public="$port"
if [ "$mock" = 1 ]; then
  public=$((port + 10))
  python3 "$(dirname "$0")/mock_api.py" --bin "$bin" --data "$data" --upstream "$port" --port "$public" & pids+=($!)
fi
project=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["projects"][0]["id"])' "$data/projects.json")
echo "open http://127.0.0.1:$public/#token=$token&project=$project"
wait
