#!/usr/bin/env bash
# Ingest throughput: durable group commit (/track) vs the bare HTTP stack (/_bench/bare, which
# reads the body and answers without storing it), same server, same run, 64 keep-alive clients.
# The server is `trackhouse-bench serve`: the product's server (Server.buildApplication) plus
# the bare route, added through `FrontDoorRoute` so it takes the SDK routes' path.
# Usage: Benchmarks/ingest/run.sh [duration_seconds] [connections] [rounds]
# Build first: make release (for demo-setup); this script builds
# trackhouse-bench (release) unless TRACKHOUSE_BENCH_BIN names one (e.g. a saved baseline).
# TRACKHOUSE_BIN=/path/to/trackhouse sets up the data with another product binary.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-15}
connections=${2:-64}
rounds=${3:-3}
bin=${TRACKHOUSE_BIN:-$(scripts/swift-release.sh bin-path)/trackhouse}
if [ -z "${TRACKHOUSE_BENCH_BIN:-}" ]; then scripts/swift-release.sh build trackhouse-bench >&2; fi
bench_bin=${TRACKHOUSE_BENCH_BIN:-$(scripts/swift-release.sh bin-path)/trackhouse-bench}
# TRACKHOUSE_BENCH_DIR=/dev/shm puts the data directory on tmpfs, where fsync costs nothing:
# the same code without the disk's latency, to split a gap between CPU and disk.
work=$(mktemp -d "${TRACKHOUSE_BENCH_DIR:-/tmp}/trackhouse-bench-ingest.XXXXXX")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" demo-setup --data "$work/data" >/dev/null
hash=$(python3 -c "import json;print(json.load(open('$work/data/projects.json'))['projects'][0]['hash'])")
python3 Benchmarks/ingest/body.py "$hash" > "$work/body.txt"
echo "body bytes: $(wc -c < "$work/body.txt")  nproc: $(nproc)  load before: $(cut -d' ' -f1-3 /proc/loadavg)"
# The decode step alone (form body -> envelope line), no HTTP, no disk: one core.
"$bench_bin" decode --body "$work/body.txt"
# --role ingest: the front door alone. With the default role (all) the server also compacts the
# new raw data every 15 s, which competes for the same 2 cores during the durable run only.
# TRACKHOUSE_SERVE_FLAGS adds `trackhouse-bench serve` flags (e.g. --ingest-on-router for the
# router-path comparison, --commit-lanes N; `trackhouse-bench serve --help` lists them).
"$bench_bin" serve --data "$work/data" --port "$port" --log-level warning --role ingest ${TRACKHOUSE_SERVE_FLAGS:-} &
server=$!
# The issue's anchor, "bare Hummingbird": a Hummingbird 2 application alone (its template's
# Router and Application) whose POST /_bench/bare collects the body and stores nothing.
hb_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bench_bin" hummingbird --port "$hb_port" --log-level warning &
hb_server=$!
trap 'kill $server $hb_server 2>/dev/null; wait $server $hb_server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$hb_port/healthz" >/dev/null && break; sleep 0.1; done

# Server CPU (user + system, all threads) per request: the cost the ratio hides when the
# machine's speed drifts between runs.
cpu_ticks() { awk '{print $14 + $15}' "/proc/${measured:-$server}/stat"; }
fsyncs() { curl -s "http://127.0.0.1:$port/metrics" | awk '/^trackhouse_ingest_fsyncs_total/ {print $2}' | head -1; }
# fsyncs that took longer than 25 ms so far (from the latency histogram): a round whose p99
# passes 25 ms with these at zero points at the server, with many of them at the disk.
slow_fsyncs() { curl -s "http://127.0.0.1:$port/metrics" | awk '/^trackhouse_ingest_fsync_seconds_bucket\{le="0.025"\}/ {le = $2}
  /^trackhouse_ingest_fsync_seconds_count/ {n = $2} END {print n - le}'; }
# Machine idle + iowait share during a run: near 0 when the cores are the limit; a durable run
# with idle cores is waiting for the disk (its fsync latency), not for CPU.
idle_ticks() { awk '/^cpu / {print $5 + $6}' /proc/stat; }
run() { # path label [port]
  local before out idle_before
  before=$(cpu_ticks); idle_before=$(idle_ticks)
  out=$(BODY_FILE="$work/body.txt" wrk -t2 -c"$connections" -d"${duration}s" --latency -s Benchmarks/ingest/post.lua "http://127.0.0.1:${3:-$port}$1" \
    | grep RESULT | sed "s/^RESULT/$2/")
  echo "$out" | awk -v ticks="$(( $(cpu_ticks) - before ))" -v idle="$(( $(idle_ticks) - idle_before ))" \
    -v hz="$(getconf CLK_TCK)" -v cores="$(nproc)" -v seconds="$duration" \
    '{ n = $2; sub("requests=", "", n); printf "%s server_cpu_us_per_req=%.1f idle_pct=%.0f\n", $0, ticks * 1e6 / hz / (n > 0 ? n : 1), 100 * idle / (hz * cores * seconds) }'
}
# Warm-up, then rounds of bare and durable back to back: on a shared 2-core machine the
# speed drifts by tens of percent within minutes, so each round gives its own ratio and the
# median is the figure.
BODY_FILE="$work/body.txt" wrk -t2 -c"$connections" -d3s -s Benchmarks/ingest/post.lua "http://127.0.0.1:$port/_bench/bare" >/dev/null
BODY_FILE="$work/body.txt" wrk -t2 -c"$connections" -d3s -s Benchmarks/ingest/post.lua "http://127.0.0.1:$hb_port/_bench/bare" >/dev/null
ratios=""
hb_ratios=""
durable_requests=0
for round in $(seq "$rounds"); do
  hb=$(measured=$hb_server run /_bench/bare hummingbird "$hb_port"); echo "round $round $hb"
  bare=$(run /_bench/bare bare); echo "round $round $bare"
  before=$(fsyncs); slow_before=$(slow_fsyncs); start=$(date +%s.%N)
  durable=$(run /track durable); echo "round $round $durable"
  after=$(fsyncs); slow_after=$(slow_fsyncs); end=$(date +%s.%N)
  requests=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$durable")
  durable_requests=$((durable_requests + requests))
  bare_rps=$(sed -n 's/.*rps=\([0-9.]*\).*/\1/p' <<<"$bare"); durable_rps=$(sed -n 's/.*rps=\([0-9.]*\).*/\1/p' <<<"$durable")
  ratio=$(python3 -c "print('%.2f' % (float('${durable_rps:-0}') / float('${bare_rps:-1}')))")
  ratios="$ratios $ratio"
  hb_rps=$(sed -n 's/.*rps=\([0-9.]*\).*/\1/p' <<<"$hb")
  hb_ratio=$(python3 -c "print('%.2f' % (float('${durable_rps:-0}') / float('${hb_rps:-1}')))")
  hb_ratios="$hb_ratios $hb_ratio"
  python3 -c "
f = float('${after:-0}') - float('${before:-0}')
print('round $round durable fsyncs_per_s=%.1f lines_per_fsync=%.1f fsyncs_over_25ms=%d durable/bare ratio=$ratio durable/hummingbird ratio=$hb_ratio' % (f / ($end - $start), float('${requests:-0}') / max(f, 1), float('${slow_after:-0}') - float('${slow_before:-0}')))"
done
python3 -c "
import statistics
r = [float(x) for x in '$ratios'.split()]
print('durable/bare ratio median=%.2f rounds=%s' % (statistics.median(r), ' '.join('%.2f' % x for x in r)))
h = [float(x) for x in '$hb_ratios'.split()]
print('durable/hummingbird ratio median=%.2f rounds=%s' % (statistics.median(h), ' '.join('%.2f' % x for x in h)))"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
# Stop the server first: shutdown closes and seals every file, so the count cannot race the sealer.
kill "$server" "$hb_server"; wait "$server" "$hb_server" 2>/dev/null || true
stored=$(find "$work/data/raw" -name '*.ndjson*' -exec sh -c 'case "$1" in *.gz) zcat "$1";; *) cat "$1";; esac' _ {} \; | wc -l)
echo "durable lines_on_disk=$stored accepted=$durable_requests"
