-- wrk script: POST a realistic ~2 KB SDK form body (client 2.0.4, http_build_query encoding).
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded; charset=UTF-8"
wrk.headers["User-Agent"] = "Appsero/0123456789abcdef0123456789abcdef;"
wrk.headers["Accept"] = "application/json"

-- No `response` callback: wrk then parses every response in Lua, client CPU that would
-- shift both routes' figures (non-2xx answers are counted by wrk itself, `errors.status`).
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d non2xx=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
