#!/usr/bin/env bash
# Ingest throughput: durable group commit (/track) vs the bare HTTP stack (/_bench/bare, which
# reads the body and answers without storing it), same server, same run, 64 keep-alive clients.
# Usage: Benchmarks/ingest/run.sh [duration_seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-15}
connections=${2:-64}
bin=$(swift build -c release --show-bin-path)/trackhouse
work=$(mktemp -d /tmp/trackhouse-bench-ingest.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" demo-setup --data "$work/data" >/dev/null
hash=$(python3 -c "import json;print(json.load(open('$work/data/projects.json'))['projects'][0]['hash'])")
python3 - "$hash" > "$work/body.txt" <<'PY'
import sys, urllib.parse
h = sys.argv[1]
pairs = [("url","https://shop.example.com"),("site","My Shop"),("admin_email","owner@example.com"),("first_name","Jane"),
 ("last_name","Doe"),("hash",h),("server[software]","Apache/2.4.41 (Ubuntu)"),("server[php_version]","8.1.27"),
 ("server[mysql_version]","10.6.12"),("server[php_max_upload_size]","512 MB"),("server[php_default_timezone]","UTC"),
 ("server[php_soap]","Yes"),("server[php_fsockopen]","Yes"),("server[php_curl]","Yes"),("wp[memory_limit]","256M"),
 ("wp[debug_mode]","No"),("wp[locale]","en_US"),("wp[version]","6.4.2"),("wp[multisite]","No"),("wp[theme_slug]","storefront"),
 ("wp[theme_name]","Storefront"),("wp[theme_version]","4.5.0"),("wp[theme_uri]","https://woocommerce.com/storefront/"),
 ("wp[theme_author]","Automattic"),("users[total]","10"),("users[administrator]","1"),("users[customer]","9"),
 ("active_plugins","14"),("inactive_plugins","3"),("ip_address","203.0.113.7"),("project_version","1.7.2"),
 ("tracking_skipped","0"),("is_local","0"),("extra[total_posts]","42"),("client","2.0.4")]
for p in ["woocommerce","akismet","contact-form-7","wordpress-seo","elementor","jetpack","wpforms-lite","classic-editor",
          "really-simple-ssl","wp-mail-smtp","litespeed-cache","updraftplus","duplicate-post","redirection","wordfence"]:
    pairs += [(f"plugins[{p}][name]", p.replace("-"," ").title()), (f"plugins[{p}][version]", "8.5.1")]
sys.stdout.write(urllib.parse.urlencode(pairs))
PY
echo "body bytes: $(wc -c < "$work/body.txt")"
"$bin" serve --data "$work/data" --port "$port" --bench-bare-route --log-level warning &
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
run /_bench/bare bare
before=$(fsyncs); start=$(date +%s.%N)
run /track durable
after=$(fsyncs); end=$(date +%s.%N)
python3 -c "print('durable fsyncs_per_s=%.1f' % ((float('${after:-0}') - float('${before:-0}')) / ($end - $start)))"
stored=$(find "$work/data/raw" -name '*.ndjson*' -exec sh -c 'case "$1" in *.gz) zcat "$1";; *) cat "$1";; esac' _ {} \; | wc -l)
echo "durable lines_on_disk=$stored"
