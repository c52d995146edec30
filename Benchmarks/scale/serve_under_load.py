"""The scale scenario's server half: one `trackhouse serve` over a large compacted warehouse
while ~10 SDK events a second arrive, as an operator of a big plugin would run it.

Measures, in one run:
- start: seconds from exec to `/healthz` saying the rollups are ready, reading the rollups'
  state file `trackhouse compact` wrote (none: built from the segments); RSS then;
- restart after the measurements: the same, reading the state file written at stop;
- a start building the rollups from the segments (the state file removed first), as after an
  upgrade to another state format or a damaged file;
- RSS under load (max of samples every second) and after the load;
- every in-process compaction cycle while events flow (from `/healthz`'s `compaction.seconds`,
  one sample per distinct `finished_at`): count, p50, max;
- freshness: a tracer event (a new site) every 15 s, timed from its `200` to the moment SQL
  (`POST /api/v1/query`) sees it: p50, max;
- chart latency, uncached (each request a `to` an hour earlier, so no answer cache entry can serve it) and
  cached (the same URL again), for stats, weekly sites by php_minor, and a wp_version breakdown,
  and the sites list (each uncached request another page: the default order, and active sites
  by php_version): p50 and p99 over `--requests` requests each.

Usage: serve_under_load.py BIN DATA_DIR [--seconds 120] [--rate 10] [--requests 200]
Prints one JSON line per measurement and a summary table on stderr.
"""
import argparse
import datetime as dt
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Client:
    def __init__(self, port, token=None):
        self.port, self.token = port, token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        for attempt in range(2):
            try:
                self.conn.request(method, path, body, headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 1:
                    raise


def start_ready_server(binary, data, compact_interval):
    """A `serve` on a free port, once `/healthz` says its rollups are ready: (process, port)."""
    port = free_port()
    server = subprocess.Popen([binary, "serve", "--data", data, "--port", str(port),
                               "--compact-interval", str(compact_interval), "--log-level", "warning"])
    health = Client(port)
    while True:
        try:
            status, body = health.request("GET", "/healthz")
            rollups = json.loads(body).get("rollups") or {}
            if status == 200 and rollups.get("ready"):
                return server, port
        except (OSError, ValueError, http.client.HTTPException):
            pass
        if server.poll() is not None:
            sys.exit(f"{binary}: server exited during start")
        time.sleep(0.2)


def track_body(project_hash, url):
    pairs = [("url", url), ("site", "Scale Probe"), ("admin_email", "probe@example.com"), ("hash", project_hash),
             ("server[php_version]", "8.2.10"), ("wp[version]", "6.6.1"), ("wp[locale]", "en_US"),
             ("project_version", "2.0.0"), ("client", "2.0.4")]
    return urllib.parse.urlencode(pairs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bin")
    parser.add_argument("data")
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    registry = json.load(open(os.path.join(args.data, "projects.json")))
    project = registry["projects"][0]
    project_id, project_hash = project["id"], project["hash"]
    token = subprocess.run([args.bin, "token", "create", "--admin", "--data", args.data],
                           capture_output=True, text=True, check=True).stdout
    token = next(word for word in token.split() if word.startswith("th_"))

    def start_server():
        return start_ready_server(args.bin, args.data, compact_interval=15)

    def stop_server(server):
        server.terminate()
        try:
            server.wait(timeout=120)
        except subprocess.TimeoutExpired:
            server.kill()

    # The first start reads the state file `compact` wrote (`<data>/rollups/state.bin`).
    state_file = os.path.join(args.data, "rollups", "state.bin")
    results = {"start_read_state_file": os.path.exists(state_file)}
    started = time.monotonic()
    server, port = start_server()
    try:
        results["start_seconds"] = round(time.monotonic() - started, 2)
        results["rss_after_start_mb"] = round(rss_mb(server.pid))
        print(json.dumps({k: results[k] for k in ("start_seconds", "rss_after_start_mb", "start_read_state_file")}), flush=True)

        stop = threading.Event()
        rss_samples, cycles, freshness = [], {}, []

        def feeder():
            client = Client(port)
            interval = 1 / args.rate
            n = 0
            next_at = time.monotonic()
            while not stop.is_set():
                # Mostly sites that exist already (a weekly heartbeat), some new ones.
                site = random.randrange(10_000_000) if random.random() < 0.2 else random.randrange(1000)
                client.request("POST", "/track", track_body(project_hash, f"https://load-{site}.example.org"),
                               {"Content-Type": "application/x-www-form-urlencoded"})
                n += 1
                next_at += interval
                time.sleep(max(0.0, next_at - time.monotonic()))

        def watcher():
            client = Client(port)
            while not stop.is_set():
                rss_samples.append(rss_mb(server.pid))
                try:
                    _, body = client.request("GET", "/healthz")
                    compaction = json.loads(body).get("compaction") or {}
                    if compaction.get("seconds") is not None and compaction.get("events_in", 0) > 0:
                        cycles[compaction["finished_at"]] = float(compaction["seconds"])
                except (OSError, ValueError, http.client.HTTPException):
                    pass
                time.sleep(1)

        def tracer():
            client = Client(port)
            query = Client(port, token)
            n = 0
            while not stop.is_set():
                url = f"https://tracer-{os.getpid()}-{n}.example.net"
                n += 1
                client.request("POST", "/track", track_body(project_hash, url),
                               {"Content-Type": "application/x-www-form-urlencoded"})
                sent = time.monotonic()
                sql = f"SELECT count(*) AS n FROM events WHERE url = '{url}'"
                while not stop.is_set():
                    status, body = query.request("POST", "/api/v1/query?format=json", sql, {"Content-Type": "text/plain"})
                    if status == 200 and json.loads(body)["rows"] == [[1]]:
                        freshness.append(time.monotonic() - sent)
                        break
                    time.sleep(0.5)
                stop.wait(15)

        threads = [threading.Thread(target=f, daemon=True) for f in (feeder, watcher, tracer)]
        for thread in threads:
            thread.start()
        time.sleep(args.seconds)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        results["rss_under_load_max_mb"] = round(max(rss_samples or [0]))
        cycle_seconds = list(cycles.values())
        results["compaction_cycles"] = len(cycle_seconds)
        results["compaction_cycle_p50_s"] = round(percentile(cycle_seconds, 50), 3)
        results["compaction_cycle_max_s"] = round(max(cycle_seconds or [float("nan")]), 3)
        results["freshness_p50_s"] = round(percentile(freshness, 50), 1)
        results["freshness_max_s"] = round(max(freshness or [float("nan")]), 1)
        print(json.dumps({k: results[k] for k in results if k.startswith(("rss_under", "compaction", "freshness"))}), flush=True)

        # Chart latency: the week that ends at the newest data, each uncached request shifted by
        # an hour (the API buckets ranges by the hour) so every one is a new answer.
        api = Client(port, token)
        newest = dt.datetime.now(dt.timezone.utc)
        base = f"/api/v1/projects/{urllib.parse.quote(project_id)}"
        # The sites list (the paging index): each uncached request another page of the default
        # order, and another page of active sites sorted by a column the index must order.
        charts = {
            "stats": lambda to, frm, i: f"{base}/stats?from={frm}&to={to}",
            "sites_week_by_php_minor": lambda to, frm, i: f"{base}/timeseries?metric=sites&interval=week&from={frm}&to={to}&breakdown=php_minor&limit=10",
            "breakdown_wp_version": lambda to, frm, i: f"{base}/breakdown?dim=wp_version&at={to}&active_days=14&limit=20",
            "sites_page_last_seen": lambda to, frm, i: f"{base}/sites?page={1 + 37 * i}&per_page=50",
            "sites_active_by_php_version": lambda to, frm, i: f"{base}/sites?status=active&sort=-php_version&page={1 + 53 * i}&per_page=50",
        }
        for name, make in charts.items():
            for mode in ("uncached", "cached"):
                latencies, failures = [], 0
                for i in range(args.requests):
                    shift = i if mode == "uncached" else 0
                    to = newest - dt.timedelta(hours=shift)
                    frm = to - dt.timedelta(days=56)
                    fmt = "%Y-%m-%dT%H:%M:%SZ"
                    path = make(to.strftime(fmt), frm.strftime(fmt), shift)
                    t0 = time.perf_counter()
                    status, _ = api.request("GET", path)
                    latencies.append((time.perf_counter() - t0) * 1000)
                    failures += status != 200
                results[f"{name}_{mode}_p50_ms"] = round(percentile(latencies, 50), 2)
                results[f"{name}_{mode}_p99_ms"] = round(percentile(latencies, 99), 2)
                print(json.dumps({"chart": name, "mode": mode, "p50_ms": results[f"{name}_{mode}_p50_ms"],
                                  "p99_ms": results[f"{name}_{mode}_p99_ms"], "non200": failures}), flush=True)
        results["rss_end_mb"] = round(rss_mb(server.pid))
    finally:
        stop_server(server)
    # A restart reads the rollups' state file (written at stop) and follows the commits after it.
    results["rollup_state_file_mb"] = round(os.path.getsize(state_file) / 1e6) if os.path.exists(state_file) else None
    started = time.monotonic()
    server, port = start_server()
    try:
        results["restart_seconds"] = round(time.monotonic() - started, 2)
        results["rss_after_restart_mb"] = round(rss_mb(server.pid))
        print(json.dumps({k: results[k] for k in ("restart_seconds", "rss_after_restart_mb", "rollup_state_file_mb")}), flush=True)
    finally:
        stop_server(server)
    # A start without the file builds the rollups from every events segment.
    if os.path.exists(state_file):
        os.remove(state_file)
    started = time.monotonic()
    server, port = start_server()
    try:
        results["build_start_seconds"] = round(time.monotonic() - started, 2)
        results["rss_after_build_start_mb"] = round(rss_mb(server.pid))
        print(json.dumps({k: results[k] for k in ("build_start_seconds", "rss_after_build_start_mb")}), flush=True)
    finally:
        stop_server(server)
    print(json.dumps({"summary": results}), flush=True)


if __name__ == "__main__":
    main()
