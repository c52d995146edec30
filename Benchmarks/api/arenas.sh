#!/bin/bash
# Usage: Benchmarks/api/arenas.sh BIN DATA   (DATA: a compacted data folder with project acme-seo;
# needs wrk). wrk -t2 -c16 -d5s on a cached chart, a sites page and POST /api/v1/query, with
# glibc's default malloc arenas against MALLOC_ARENA_MAX=2, twice each; prints p50, p99 and
# requests/s per URL and the server's RSS. A binary that limits its arenas itself keeps an
# operator's MALLOC_ARENA_MAX, so "default" means the binary's own choice there.
set -u
bin=$1; data=$2
token=$($bin token create --admin --data $data | grep -oE 'th_[0-9a-f]+' | head -1)
cat > /tmp/post.lua <<LUA
wrk.method = "POST"
wrk.body = '{"sql": "SELECT php_version, count(*) FROM sites GROUP BY 1 ORDER BY 2 DESC"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA
for mode in default arena2 default arena2; do
  port=$((20000 + RANDOM % 20000))
  if [ $mode = arena2 ]; then export MALLOC_ARENA_MAX=2; else unset MALLOC_ARENA_MAX; fi
  $bin serve --data $data --port $port --role query --compact-interval 0 --log-level warning & pid=$!
  for _ in $(seq 300); do curl -sf http://127.0.0.1:$port/healthz | grep -q '"ready":true' && break; sleep 0.3; done
  b="http://127.0.0.1:$port/api/v1/projects/acme-seo"
  for u in "$b/stats?from=2026-10-01T00:00:00Z&to=2026-12-01T00:00:00Z" "$b/sites?limit=50&sort=-php_version&status=active"; do
    r=$(wrk -t2 -c16 -d5s --latency -H "Authorization: Bearer $token" "$u" | grep -E "Requests/sec|  50%|  99%" | awk '{print $2}' | tr '\n' ' ')
    echo "$mode GET ${u##*/} : p50 p99 rps = $r"
  done
  r=$(wrk -t2 -c16 -d5s --latency -s /tmp/post.lua "http://127.0.0.1:$port/api/v1/query" | grep -E "Requests/sec|  50%|  99%|Non-2xx" | awk '{print $2}' | tr '\n' ' ')
  echo "$mode POST query : p50 p99 rps = $r"
  echo "$mode RSS $(ps -o rss= -p $pid | awk '{printf "%.0f MB", $1/1024}')"
  kill $pid; wait $pid 2>/dev/null || true
done
