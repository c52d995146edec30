#!/usr/bin/env python3
"""The outbox's cost on ingest and on compaction: the same run, interleaved, without any
integration (A) and with a webhook integration whose receiver answers 200 (B).

    TRACKHOUSE_BIN=$(scripts/swift-release.sh bin-path)/trackhouse \
        python3 Benchmarks/integrations/outbox_ab.py [--rounds 3] [--ingest-seconds 20] [--sites 20000] \
        [--new-site-every 50 --new-site-every 1]

Each round runs A and B back to back (the order alternates by round: the shared machine's
speed drifts within minutes, so each round gives its own B/A ratio and the median is the
figure):

1. Ingest: a fresh `demo-setup` data folder, the full `trackhouse serve` (role all: ingest,
   in-process compaction every 5 s, rollups, and in B the delivery worker), then wrk with 32
   keep-alive connections on `POST /track` for --ingest-seconds (`post_sites.lua`), in two
   traffic mixes: every 50th request from a new site, the rest from 1,000 sites reporting
   again (a vendor's week: a few percent of sites are new), and every request from a new site
   (the outbox's worst case: in B each request becomes a `site.activated` entry in the outbox
   and a signed webhook delivery). B's `since` is the run's start (live traffic only).
   Reported: requests/s, server CPU µs per request, and the in-process compactions'
   throughput during the load (events per second of compaction run time, from /metrics).
2. Compaction: `trackhouse gen` history in two halves (--sites sites, 4 weeks each). serve
   (--compact-interval 2 --no-rollups) compacts the first half; in B its lifecycle events
   (about one per site) then stream through the outbox to the receiver; the second half's raw
   files are moved in right away, so the second compaction runs while B's worker follows and
   delivers. Reported: the second compaction's events per second of run time (/metrics).

The receiver (ThreadingHTTPServer, Nagle off) answers 200 and counts distinct delivery ids.
Prints one line per run and the B/A medians as JSON at the end.
"""
import argparse, http.server, json, os, shutil, socket, statistics, subprocess, tempfile, threading, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("TRACKHOUSE_BIN", os.path.join(ROOT, ".build/release/trackhouse"))
SECRET_ENV = "BENCH_HOOK_SECRET"

received, lock = set(), threading.Lock()


class Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            received.add(self.headers.get("Trackhouse-Delivery"))
        try:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")
        except OSError:
            pass  # serve was stopped mid-request (the end of a run)

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metrics(port):
    values = {}
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except OSError:
        return values
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        name, value = line.rsplit(" ", 1)
        try:
            values[name] = values.get(name, 0.0) + float(value)
        except ValueError:
            pass
    return values


def metric(values, prefix):
    """Sum of every series whose name (with labels) starts with `prefix`."""
    return sum(v for k, v in values.items() if k == prefix or k.startswith(prefix + "{"))


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def with_integration(data, receiver_port, since):
    path = os.path.join(data, "projects.json")
    registry = json.load(open(path))
    registry["projects"][0]["integrations"] = [{"id": "bench", "kind": "webhook",
        "url": f"http://127.0.0.1:{receiver_port}/in", "secret_env": SECRET_ENV, "since": since}]
    json.dump(registry, open(path, "w"))


def start_serve(data, extra):
    port = free_port()
    env = dict(os.environ, **{SECRET_ENV: "bench-secret"})
    process = subprocess.Popen([BIN, "serve", "--data", data, "--port", str(port), "--log-level", "error"] + extra,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("serve did not come up")


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def ingest_run(work, template, body, variant, receiver_port, seconds, new_site_every):
    data = os.path.join(work, f"ingest-{variant}")
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(template, data)
    if variant == "B":
        # Live traffic only: the demo's history (before now) is not replayed into the outbox.
        with_integration(data, receiver_port, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    with lock:
        received.clear()
    process, port = start_serve(data, ["--compact-interval", "5"])
    try:
        before, cpu_before = metrics(port), cpu_seconds(process.pid)
        out = subprocess.run(["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-s",
                              os.path.join(ROOT, "Benchmarks/integrations/post_sites.lua"), f"http://127.0.0.1:{port}/track"],
                             env=dict(os.environ, BODY_FILE=body, NEW_SITE_EVERY=str(new_site_every),
                                      INGEST_POST_LUA=os.path.join(ROOT, "Benchmarks/ingest/post.lua")), capture_output=True, text=True, check=True).stdout
        after, cpu_after = metrics(port), cpu_seconds(process.pid)
    finally:
        stop(process)
    result = dict(kv.split("=") for kv in next(l for l in out.splitlines() if l.startswith("RESULT")).split()[1:])
    requests = int(result["requests"])
    events = metric(after, "trackhouse_compaction_events_total") - metric(before, "trackhouse_compaction_events_total")
    busy = metric(after, "trackhouse_compaction_duration_seconds_sum") - metric(before, "trackhouse_compaction_duration_seconds_sum")
    with lock:
        delivered = len(received)
    shutil.rmtree(data, ignore_errors=True)
    return {"phase": f"ingest_new_every_{new_site_every}", "variant": variant, "rps": float(result["rps"]), "p99_ms": float(result["p99_ms"]),
            "non2xx": int(result["non2xx"]), "cpu_us_per_request": round((cpu_after - cpu_before) * 1e6 / max(1, requests), 1),
            "compacted_events": int(events), "compaction_events_per_s": round(events / busy, 1) if busy > 0 else None,
            "deliveries_during_run": delivered}


def wait_for(port, raw_bytes, timeout=600):
    """/metrics once compaction has read `raw_bytes` of raw files in all (gen's byte count:
    its event count includes lines compaction drops, unknown projects and duplicates)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        values = metrics(port)
        if metric(values, "trackhouse_compaction_raw_bytes_read_total") >= raw_bytes:
            return values
        time.sleep(0.1)
    raise SystemExit(f"compaction did not read {raw_bytes} bytes")


def compaction_run(work, halves, variant, receiver_port):
    data = os.path.join(work, f"compact-{variant}")
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(halves[0]["dir"], data)
    if variant == "B":
        with_integration(data, receiver_port, "2000-01-01T00:00:00Z")
    with lock:
        received.clear()
    process, port = start_serve(data, ["--compact-interval", "2", "--no-rollups"])
    try:
        first = wait_for(port, halves[0]["raw_bytes"])
        # The second half moves in file by file (a rename each: compaction never sees half a file).
        staging = os.path.join(data, ".staging")
        shutil.copytree(os.path.join(halves[1]["dir"], "raw"), staging)
        for folder, _, files in os.walk(staging):
            target = os.path.join(data, "raw", os.path.relpath(folder, staging))
            os.makedirs(target, exist_ok=True)
            for name in files:
                os.rename(os.path.join(folder, name), os.path.join(target, name))
        with lock:
            delivering = len(received)
        second = wait_for(port, halves[0]["raw_bytes"] + halves[1]["raw_bytes"])
    finally:
        stop(process)
    events = metric(second, "trackhouse_compaction_events_total") - metric(first, "trackhouse_compaction_events_total")
    busy = metric(second, "trackhouse_compaction_duration_seconds_sum") - metric(first, "trackhouse_compaction_duration_seconds_sum")
    with lock:
        delivered = len(received)
    shutil.rmtree(data, ignore_errors=True)
    return {"phase": "compaction", "variant": variant, "events": int(events), "run_seconds": round(busy, 3),
            "compaction_events_per_s": round(events / busy, 1) if busy > 0 else None,
            "deliveries_when_second_half_arrived": delivering, "deliveries_by_the_end": delivered}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ingest-seconds", type=int, default=20)
    parser.add_argument("--sites", type=int, default=20000)
    parser.add_argument("--new-site-every", type=int, action="append",
                        help="ingest mixes to run: every Nth request from a new site (default: 50 and 1)")
    args = parser.parse_args()
    mixes = args.new_site_every or [50, 1]
    work = tempfile.mkdtemp(prefix="bench-outbox-ab-")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver_port = server.server_address[1]
    try:
        template = os.path.join(work, "demo")
        subprocess.run([BIN, "demo-setup", "--data", template], check=True, stdout=subprocess.DEVNULL)
        project_hash = json.load(open(os.path.join(template, "projects.json")))["projects"][0]["hash"]
        body = os.path.join(work, "body.txt")
        with open(body, "w") as out:
            subprocess.run(["python3", os.path.join(ROOT, "Benchmarks/ingest/body.py"), project_hash], check=True, stdout=out)
        halves = []
        for index, end in enumerate(["2026-10-04T00:00:00Z", "2026-11-01T00:00:00Z"]):
            folder = os.path.join(work, f"half{index}")
            summary = json.loads(subprocess.run([BIN, "gen", "--out", folder, "--projects", "1", "--sites", str(args.sites),
                                                 "--weeks", "4", "--seed", "7", "--end", end, "--quiet", "--json"],
                                                check=True, capture_output=True, text=True).stdout)
            halves.append({"dir": folder, "events": summary["events"], "raw_bytes": summary["bytes"]})
        print(json.dumps({"bin": BIN, "nproc": os.cpu_count(), "load": open("/proc/loadavg").read().split()[:3],
                          "ingest_seconds": args.ingest_seconds, "sites": args.sites,
                          "compaction_halves": [{k: h[k] for k in ("events", "raw_bytes")} for h in halves]}), flush=True)
        rows = []
        for round_index in range(args.rounds):
            order = ["A", "B"] if round_index % 2 == 0 else ["B", "A"]
            for mix in mixes:
                for variant in order:
                    row = ingest_run(work, template, body, variant, receiver_port, args.ingest_seconds, mix)
                    row["round"] = round_index + 1
                    print(json.dumps(row), flush=True)
                    rows.append(row)
            for variant in order:
                row = compaction_run(work, halves, variant, receiver_port)
                row["round"] = round_index + 1
                print(json.dumps(row), flush=True)
                rows.append(row)

        def ratios(phase, key):
            out = []
            for round_index in range(1, args.rounds + 1):
                a = next(r[key] for r in rows if r["phase"] == phase and r["variant"] == "A" and r["round"] == round_index)
                b = next(r[key] for r in rows if r["phase"] == phase and r["variant"] == "B" and r["round"] == round_index)
                if a and b:
                    out.append(round(b / a, 3))
            return {"per_round": out, "median": statistics.median(out) if out else None}

        summary = {}
        for mix in mixes:
            phase = f"ingest_new_every_{mix}"
            summary[phase] = {"rps": ratios(phase, "rps"), "cpu_us_per_request": ratios(phase, "cpu_us_per_request"),
                              "compaction_events_per_s": ratios(phase, "compaction_events_per_s")}
        summary["batch_compaction_events_per_s"] = ratios("compaction", "compaction_events_per_s")
        print(json.dumps({"B/A": summary,
                          "load_after": open("/proc/loadavg").read().split()[:3]}), flush=True)
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
