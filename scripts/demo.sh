#!/usr/bin/env bash
# make demo: prepares DATA with a demo project and serves it on localhost.
set -euo pipefail
data=${1:-./data}
port=${2:-8080}
bin=$(swift build -c release --show-bin-path)/trackhouse
"$bin" demo-setup --data "$data"
echo
echo "Trackhouse is starting on http://127.0.0.1:$port"
echo "  send a heartbeat: curl -X POST http://127.0.0.1:$port/track --data 'hash=a4a8da5b-b419-4656-98e9-4a42e9044891&url=https://example.com'"
echo "  health:           curl http://127.0.0.1:$port/healthz"
echo
exec "$bin" serve --data "$data" --port "$port"
