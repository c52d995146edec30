"""The first sites listing after a commit: each commit that touches a project brings a new
sites index (base + deltas), whose first listing in an order builds that order over every
site. Per round and build: a fresh `serve --compact-interval 0` on DATA (so nothing is
cached), then the first page of each listing below, timed as a client sees it.

DATA should hold sites deltas (a warehouse `serve` left, before its fold): with the base
alone the rows are in site_key order and the site_key ranks cost nothing.

With `--pages N`, then N further pages of the default order and of active sites by
-php_version (pages 2, 39, 76, …: each another page, none cached), p50 and p90: what paging
through a listing costs once its order is built.

Usage: first_listing.py DATA BIN [BIN …] [--rounds 2] [--pages 40]
Prints a table of milliseconds per listing, one line per build and round.
"""
import argparse
import glob
import json
import os
import subprocess
import time

from serve_under_load import Client, start_ready_server

LISTINGS = [
    ("default order, page 1", "sites?page=1&per_page=50"),
    ("active by -php_version, page 1", "sites?status=active&sort=-php_version&page=1&per_page=50"),
    ("default order, page 2000", "sites?page=2000&per_page=50"),
    ("by site_name, page 3", "sites?sort=site_name&page=3&per_page=50"),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("bins", nargs="+")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pages", type=int, default=0)
    args = parser.parse_args()
    deltas = len(glob.glob(os.path.join(args.data, "warehouse", "sites-delta", "*", "*.parquet")))
    project = json.load(open(os.path.join(args.data, "projects.json")))["projects"][0]["id"]
    token = subprocess.run([args.bins[0], "token", "create", "--admin", "--data", args.data],
                           capture_output=True, text=True, check=True).stdout
    token = next(word for word in token.split() if word.startswith("th_"))
    print(f"{deltas} sites deltas; ms to the first page of each listing on a fresh server")
    paged = [("default order", "sites?page={}&per_page=50"), ("active by -php_version", "sites?status=active&sort=-php_version&page={}&per_page=50")]
    extra = [f"{name}, {args.pages} more pages p50 / p90" for name, _ in paged] if args.pages else []
    print("| build | round | " + " | ".join([name for name, _ in LISTINGS] + extra) + " |")
    print("|---|---" + "|---" * (len(LISTINGS) + len(extra)) + "|")
    for round_number in range(1, args.rounds + 1):
        for binary in args.bins:
            server, port = start_ready_server(binary, args.data, compact_interval=0)
            api = Client(port, token)

            def timed_ms(path):
                started = time.perf_counter()
                status, _ = api.request("GET", f"/api/v1/projects/{project}/{path}")
                if status != 200:
                    raise SystemExit(f"{binary}: {path} answered {status}")
                return (time.perf_counter() - started) * 1000

            try:
                cells = [f"{timed_ms(path):.0f}" for _, path in LISTINGS]
                for _, pattern in paged if args.pages else []:
                    times = sorted(timed_ms(pattern.format(2 + 37 * i)) for i in range(args.pages))
                    cells.append(f"{times[len(times) // 2]:.1f} / {times[int(len(times) * 0.9)]:.1f}")
                print(f"| {os.path.basename(binary)} | {round_number} | " + " | ".join(cells) + " |", flush=True)
            finally:
                server.terminate()
                server.wait()


if __name__ == "__main__":
    main()
