#!/usr/bin/env bash
# Two serve configurations side by side: servers A and B run at once on copies of one demo
# data directory; each round runs the bare route on A, then durable /track on A, then on B,
# so both configurations see the same drift of this shared machine.
# Usage: Benchmarks/ingest/ab.sh ROUNDS SECONDS "A serve flags" "B serve flags"
# e.g.   Benchmarks/ingest/ab.sh 10 8 "" "--commit-interval-us 2000"
# The servers are `trackhouse-bench serve` (the product's server plus the bare route; the flags
# are its flags), built here (release); TRACKHOUSE_BENCH_BIN_A / TRACKHOUSE_BENCH_BIN_B compare
# two builds of it instead. The data is set up by the release `trackhouse` (build it first).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-6}; seconds=${2:-8}; flags_a=${3:-}; flags_b=${4:-}
release=$(scripts/swift-release.sh bin-path)
if [ -z "${TRACKHOUSE_BENCH_BIN_A:-}" ] || [ -z "${TRACKHOUSE_BENCH_BIN_B:-}" ]; then
  scripts/swift-release.sh build trackhouse-bench >&2
fi
product=${TRACKHOUSE_BIN:-$release/trackhouse}
bin_a=${TRACKHOUSE_BENCH_BIN_A:-$release/trackhouse-bench}; bin_b=${TRACKHOUSE_BENCH_BIN_B:-$release/trackhouse-bench}
work=$(mktemp -d "${TRACKHOUSE_BENCH_DIR:-/tmp}/trackhouse-bench-ab.XXXXXX")
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port_a=$(free_port); port_b=$(free_port)
"$product" demo-setup --data "$work/a" >/dev/null
cp -r "$work/a" "$work/b"
hash=$(python3 -c "import json;print(json.load(open('$work/a/projects.json'))['projects'][0]['hash'])")
python3 Benchmarks/ingest/body.py "$hash" > "$work/body.txt"
# shellcheck disable=SC2086  # the flags are word lists
"$bin_a" serve --data "$work/a" --port "$port_a" --log-level warning --role ingest $flags_a &
server_a=$!
# shellcheck disable=SC2086
"$bin_b" serve --data "$work/b" --port "$port_b" --log-level warning --role ingest $flags_b &
server_b=$!
trap 'kill $server_a $server_b 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for port in "$port_a" "$port_b"; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
done
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
idle_ticks() { awk '/^cpu / {print $5 + $6}' /proc/stat; }
# Prints "rps p99_ms server_cpu_us_per_req idle_pct" for one load on one server.
load() { # port path server_pid
  local cpu0 idle0 out
  cpu0=$(cpu_ticks "$3"); idle0=$(idle_ticks)
  out=$(BODY_FILE="$work/body.txt" wrk -t2 -c64 -d"${seconds}s" --latency -s Benchmarks/ingest/post.lua "http://127.0.0.1:$1$2" | grep RESULT)
  echo "$out" | awk -v ticks="$(( $(cpu_ticks "$3") - cpu0 ))" -v idle="$(( $(idle_ticks) - idle0 ))" \
    -v hz="$(getconf CLK_TCK)" -v cores="$(nproc)" -v seconds="$seconds" \
    '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
       printf "%.0f %s %.0f %.0f\n", v["rps"], v["p99_ms"], ticks * 1e6 / hz / (v["requests"] > 0 ? v["requests"] : 1), 100 * idle / (hz * cores * seconds) }'
}
load "$port_a" /_bench/bare "$server_a" >/dev/null  # warm-up
load "$port_b" /_bench/bare "$server_b" >/dev/null
echo "A: ${flags_a:-(defaults)}  B: ${flags_b:-(defaults)}  (rps p99_ms cpu_us/req idle%)"
for round in $(seq "$rounds"); do
  read -r bare_rps _ bare_cpu _ < <(load "$port_a" /_bench/bare "$server_a")
  read -r a_rps a_p99 a_cpu a_idle < <(load "$port_a" /track "$server_a")
  read -r b_rps b_p99 b_cpu b_idle < <(load "$port_b" /track "$server_b")
  python3 -c "print('round $round bare=$bare_rps (${bare_cpu} us) A=$a_rps p99=$a_p99 ${a_cpu} us idle=${a_idle}%% B=$b_rps p99=$b_p99 ${b_cpu} us idle=${b_idle}%% ratio A=%.2f B=%.2f' % ($a_rps / $bare_rps, $b_rps / $bare_rps))"
done
