"""`serve`'s start over a large data folder, from exec to `/healthz` saying the rollups are
ready, with the page cache dropped first (a server started after a reboot, or after a
compaction that read tens of GB of raw files) or warm. Needs root for the drop.

Usage: cold_start.py BIN DATA_DIR [--rounds 2] [--warm]
With several binaries (BIN as a comma-separated list) the rounds interleave them. Prints per
start the seconds to ready, the seconds until HTTP answered at all, RSS at ready and the
peak RSS of the start (VmHWM).
"""
import argparse
import json
import os
import subprocess
import time
import urllib.request

from serve_under_load import free_port


def start(binary, data, drop):
    if drop:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    port = free_port()
    started = time.time()
    server = subprocess.Popen([binary, "serve", "--data", data, "--port", str(port), "--compact-interval", "15",
                               "--log-level", "warning"])
    http_up = None
    try:
        while True:
            if server.poll() is not None:
                raise SystemExit("server exited during start")
            try:
                body = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read())
                http_up = http_up or time.time() - started
                if (body.get("rollups") or {}).get("ready"):
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        ready = time.time() - started
        with open(f"/proc/{server.pid}/statm") as f:
            rss_mb = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
        with open(f"/proc/{server.pid}/status") as f:
            peak_mb = next(int(line.split()[1]) * 1024 / 1e6 for line in f if line.startswith("VmHWM:"))
        return ready, http_up, rss_mb, peak_mb
    finally:
        server.terminate()
        server.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bins")
    parser.add_argument("data")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warm", action="store_true", help="keep the page cache (default: drop it before each start)")
    args = parser.parse_args()
    for _ in range(args.rounds):
        for binary in args.bins.split(","):
            ready, http_up, rss_mb, peak_mb = start(binary, args.data, drop=not args.warm)
            print(json.dumps({"bin": binary, "cold": not args.warm, "ready_seconds": round(ready, 2),
                              "http_seconds": round(http_up, 2), "rss_mb": round(rss_mb), "peak_rss_mb": round(peak_mb)}), flush=True)


if __name__ == "__main__":
    main()
