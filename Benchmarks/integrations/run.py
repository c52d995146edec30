#!/usr/bin/env python3
"""Integrations benchmark: deliveries per second from `trackhouse serve` to a local webhook
receiver, and the follower's cost beside compaction's on the same data in the same run.

    TRACKHOUSE_BIN=.build/release/trackhouse python3 Benchmarks/integrations/run.py [SITES] [WEEKS]

1. `trackhouse gen` (1 project, SITES sites, WEEKS weeks), then `trackhouse compact` timed:
   the anchor.
2. A webhook integration with `since` before all data is added to the registry, so every
   lifecycle event of history is delivered; a local receiver (ThreadingHTTPServer, answers
   200, verifies nothing: the cost measured is the sender's) counts distinct delivery ids.
3. `trackhouse serve` starts: the follower rescans the history into the outbox (time to the
   first request ≈ the rescan), then the worker delivers (4 in flight, per-site order).
Prints the compaction seconds, the rescan seconds and their ratio, and deliveries/s.
"""
import http.server, json, os, shutil, socket, subprocess, sys, tempfile, threading, time

BIN = os.environ.get("TRACKHOUSE_BIN", ".build/release/trackhouse")
SITES = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
WEEKS = int(sys.argv[2]) if len(sys.argv) > 2 else 8

ids, first_at, last_at = set(), [None], [None]
lock = threading.Lock()


class Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are separate small writes: without this, Nagle plus delayed ACKs add
    # ~40 ms per answer and the receiver, not the sender, is what gets measured.
    disable_nagle_algorithm = True

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        now = time.monotonic()
        with lock:
            ids.add(self.headers.get("Trackhouse-Delivery"))
            first_at[0] = first_at[0] or now
            last_at[0] = now
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    data = tempfile.mkdtemp(prefix="bench-integrations-")
    try:
        subprocess.run([BIN, "gen", "--out", data, "--projects", "1", "--sites", str(SITES), "--weeks", str(WEEKS),
                        "--seed", "7"], check=True, stdout=subprocess.DEVNULL)
        started = time.monotonic()
        subprocess.run([BIN, "compact", "--data", data, "--include-open", "--quiet"], check=True)
        compact_seconds = time.monotonic() - started
        events = json.loads(subprocess.run([BIN, "query", "--data", data, "--format", "json",
                                            "SELECT count(*) FROM events"], check=True, capture_output=True).stdout)["rows"][0][0]

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        registry = json.load(open(data + "/projects.json"))
        registry["projects"][0]["integrations"] = [{"id": "bench", "kind": "webhook",
            "url": f"http://127.0.0.1:{server.server_address[1]}/in", "secret_env": "BENCH_HOOK_SECRET",
            "since": "2000-01-01T00:00:00Z"}]
        json.dump(registry, open(data + "/projects.json", "w"))

        port = free_port()
        env = dict(os.environ, BENCH_HOOK_SECRET="bench-secret")
        serve_started = time.monotonic()
        serve = subprocess.Popen([BIN, "serve", "--data", data, "--port", str(port), "--log-level", "error",
                                  "--compact-interval", "3600", "--no-rollups"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            quiet_since, count = time.monotonic(), 0
            while time.monotonic() - quiet_since < 5 and time.monotonic() - serve_started < 900:
                time.sleep(0.2)
                with lock:
                    if len(ids) != count:
                        count, quiet_since = len(ids), time.monotonic()
        finally:
            serve.terminate()
            serve.wait()
        rescan = (first_at[0] or time.monotonic()) - serve_started
        span = max(1e-9, (last_at[0] or 0) - (first_at[0] or 0))
        print(json.dumps({"sites": SITES, "weeks": WEEKS, "events": events, "compact_seconds": round(compact_seconds, 3),
                          "serve_start_to_first_delivery_seconds": round(rescan, 3),
                          "first_delivery_over_compact_ratio": round(rescan / compact_seconds, 3),
                          "deliveries": len(ids), "deliveries_per_second": round(len(ids) / span, 1)}))
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
