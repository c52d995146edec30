#!/usr/bin/env bash
# Ingest throughput: durable group commit (/track) vs the bare HTTP stack (/_bench/bare, which
# reads the body and answers without storing it), same server, same run, 64 keep-alive clients.
# Usage: Benchmarks/ingest/run.sh [duration_seconds] [connections]
# Build first: swift build -c release --product trackhouse --scratch-path .build
# TRACKHOUSE_BIN=/path/to/trackhouse runs another binary (e.g. a saved baseline).
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-15}
connections=${2:-64}
bin=${TRACKHOUSE_BIN:-$(swift build -c release --show-bin-path)/trackhouse}
work=$(mktemp -d /tmp/trackhouse-bench-ingest.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" demo-setup --data "$work/data" >/dev/null
hash=$(python3 -c "import json;print(json.load(open('$work/data/projects.json'))['projects'][0]['hash'])")
python3 Benchmarks/ingest/body.py "$hash" > "$work/body.txt"
echo "body bytes: $(wc -c < "$work/body.txt")  nproc: $(nproc)  load before: $(cut -d' ' -f1-3 /proc/loadavg)"
# --role ingest: the front door alone. With the default role (all) the server also compacts the
# new raw data every 15 s, which competes for the same 2 cores during the durable run only.
"$bin" serve --data "$work/data" --port "$port" --bench-bare-route --log-level warning --role ingest &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

fsyncs() { curl -s "http://127.0.0.1:$port/metrics" | awk '/^trackhouse_ingest_fsyncs_total/ {print $2}' | head -1; }
run() { # path label
  BODY_FILE="$work/body.txt" wrk -t2 -c"$connections" -d"${duration}s" --latency -s Benchmarks/ingest/post.lua "http://127.0.0.1:$port$1" \
    | grep RESULT | sed "s/^RESULT/$2/"
}
# Warm-up, then alternate bare and durable runs so drift affects both.
BODY_FILE="$work/body.txt" wrk -t2 -c"$connections" -d3s -s Benchmarks/ingest/post.lua "http://127.0.0.1:$port/_bench/bare" >/dev/null
bare=$(run /_bench/bare bare); echo "$bare"
before=$(fsyncs); start=$(date +%s.%N)
durable=$(run /track durable); echo "$durable"
after=$(fsyncs); end=$(date +%s.%N)
requests=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$durable")
python3 -c "
f = float('${after:-0}') - float('${before:-0}')
print('durable fsyncs_per_s=%.1f lines_per_fsync=%.1f' % (f / ($end - $start), float('${requests:-0}') / max(f, 1)))"
bare_rps=$(sed -n 's/.*rps=\([0-9.]*\).*/\1/p' <<<"$bare"); durable_rps=$(sed -n 's/.*rps=\([0-9.]*\).*/\1/p' <<<"$durable")
python3 -c "print('durable/bare ratio=%.2f' % (float('${durable_rps:-0}') / float('${bare_rps:-1}')))"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
stored=$(find "$work/data/raw" -name '*.ndjson*' -exec sh -c 'case "$1" in *.gz) zcat "$1";; *) cat "$1";; esac' _ {} \; | wc -l)
echo "durable lines_on_disk=$stored"
