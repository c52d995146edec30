#!/usr/bin/env python3
"""Issue 20's "Done when", end to end, as a new user would see it: `make demo`'s data (a year,
3 projects, 3,000 sites), live traffic through the SDK routes, a kill -9 of `serve` in the
middle of deliveries, and per project:

- `hooks`: a webhook whose receiver verifies every signature and records every request;
- `flaky`: a webhook answering 503 for its first 30 s (pending, retried) and 410 for sites
  whose key starts with "gone" (dead);
- `digest` (daily) and `forward` (deactivations): mail to aiosmtpd with STARTTLS and AUTH.

Checks (exit 1 if any fails): every lifecycle event the contract defines (computed here from
`trackhouse query` over the committed events) reached `hooks` — each id, no other, in order
per site, signatures valid — and live events within the freshness window plus delivery time;
the deliveries API lists pending, delivered and dead; digests and forwards arrive with a
text/plain and a text/html part.

    TRACKHOUSE_BIN=$(scripts/swift-release.sh bin-path)/trackhouse \
        TRACKHOUSE_PYTHON=.venv/bin/python python3 scripts/integrations-e2e.py
(TRACKHOUSE_PYTHON: a python with aiosmtpd, started for the SMTP server; openssl for its certificate.)
"""
import collections, hashlib, hmac, http.server, json, os, shutil, signal, socket, subprocess, sys, tempfile, threading, time
import urllib.parse, urllib.request

BIN = os.environ.get("TRACKHOUSE_BIN", ".build/release/trackhouse")
PYTHON = os.environ.get("TRACKHOUSE_PYTHON", sys.executable)
SECRET = "whsec-e2e-0123456789"
LIVE_SITES = 120
results, failures = [], []


def check(ok, what):
    results.append(("ok  " if ok else "FAIL") + " " + what)
    if not ok:
        failures.append(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hooks(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    lock = threading.Lock()
    requests = collections.defaultdict(list)  # path -> [(id, type, site_key, occurred_at, signature_ok, at)]
    started = time.monotonic()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        signature = dict(p.split("=", 1) for p in self.headers.get("Trackhouse-Signature", "").split(",") if "=" in p)
        expected = hmac.new(SECRET.encode(), f"{signature.get('t', '')}.".encode() + body, hashlib.sha256).hexdigest()
        event = json.loads(body)
        site = (event.get("site") or {}).get("site_key") or ""
        record = (self.headers.get("Trackhouse-Delivery"), event.get("type"), site, event.get("occurred_at"),
                  hmac.compare_digest(expected, signature.get("v1", "")), time.time())
        with Hooks.lock:
            Hooks.requests[self.path].append(record)
        status = 200
        if self.path == "/flaky":
            status = 503 if time.monotonic() - Hooks.started < 30 else (410 if site.startswith("gone") else 200)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


SMTP_SCRIPT = r'''
import asyncio, email, email.policy, json, os, ssl, sys
from aiosmtpd.smtp import SMTP, AuthResult
outdir, cert, key, portfile = sys.argv[1:5]
count = [0]
class Handler:
    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        parts = [{"type": p.get_content_type(), "content": p.get_content()} for p in msg.walk() if not p.is_multipart()]
        count[0] += 1
        with open(os.path.join(outdir, "%05d.json" % count[0]), "w") as f:
            json.dump({"tls": session.ssl is not None, "authenticated": bool(session.authenticated),
                       "subject": str(msg["subject"]), "to": envelope.rcpt_tos, "parts": parts,
                       "delivery": str(msg["x-trackhouse-delivery"])}, f)
        return "250 2.0.0 Ok"
def auth(server, session, envelope, mechanism, data):
    return AuthResult(success=data.login == b"mailer" and data.password == b"s3cret-pass", handled=False)
async def main():
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Handler(), hostname="localhost", tls_context=context, require_starttls=True,
                                                   auth_required=True, authenticator=auth, auth_require_tls=True), "127.0.0.1", 0)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(server.sockets[0].getsockname()[1]))
    os.rename(portfile + ".tmp", portfile)
    await server.serve_forever()
asyncio.run(main())
'''


def run(*args, **kwargs):
    return subprocess.run([BIN, *args], check=True, capture_output=True, text=True, **kwargs).stdout


def query(data, sql):
    return json.loads(run("query", "--data", data, "--format", "json", sql))["rows"]


def iso(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def post(port, route, fields):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/{route}", data=urllib.parse.urlencode(fields).encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded",
                                              "User-Agent": "Appsero/0123456789abcdef0123456789abcdef;"})
    return urllib.request.urlopen(request, timeout=10).status


def api(port, token, path):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"})
    return json.load(urllib.request.urlopen(request, timeout=30))


def start_serve(data, port, env):
    process = subprocess.Popen([BIN, "serve", "--data", data, "--port", str(port), "--log-level", "warning"], env=env,
                               stdout=subprocess.DEVNULL, stderr=open(os.path.join(data, "..", "serve.log"), "a"))
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except OSError:
            time.sleep(0.1)
    raise SystemExit("serve did not come up")


def expected_lifecycle(data, project, since):
    """The contract's lifecycle events of `project` at or after `since`, per site in order."""
    rows = query(data, f"SELECT site_key, event, received_at, event_id FROM events WHERE project_id = '{project}' "
                       f"AND site_key IS NOT NULL ORDER BY site_key, received_at, event_id")
    per_site, previous = collections.defaultdict(list), {}
    for site, event, received_at, event_id in rows:
        kind = None
        if event == "track" and previous.get(site) in (None, "deactivate", "skip"):
            kind = "site.activated"
        elif event == "deactivate":
            kind = "site.deactivated"
        elif event == "skip":
            kind = "site.skipped"
        previous[site] = event
        if kind and received_at.replace(" ", "T")[:19] >= since[:19]:
            per_site[site].append((event_id, kind))
    return per_site


def main():
    work = tempfile.mkdtemp(prefix="integrations-e2e-")
    data = os.path.join(work, "data")
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hooks)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    mails = os.path.join(work, "mail")
    os.makedirs(mails)
    cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    script = os.path.join(work, "smtp.py")
    open(script, "w").write(SMTP_SCRIPT)
    portfile = os.path.join(work, "smtp.port")
    smtp = subprocess.Popen([PYTHON, "-W", "ignore", script, mails, cert, key, portfile])
    serve = None
    try:
        # `make demo`'s data: scripts/demo.sh's seeding, demo-setup, compaction.
        started = time.time()
        run("gen", "--out", data, "--projects", "3", "--sites", "3000", "--weeks", "52", "--seed", "1", "--end", "now", "--quiet")
        run("demo-setup", "--data", data)
        run("compact", "--data", data, "--include-open", "--quiet")
        token = open(os.path.join(data, ".demo-token")).read().strip()
        for _ in range(100):
            if os.path.exists(portfile):
                break
            time.sleep(0.1)
        smtp_port = int(open(portfile).read())
        registry_path = os.path.join(data, "projects.json")
        registry = json.load(open(registry_path))
        project = registry["projects"][0]
        since = iso(time.time() - 14 * 86_400)
        hook_url = f"http://127.0.0.1:{receiver.server_address[1]}"
        mail = {"smtp_host": "localhost", "smtp_port": smtp_port, "smtp_username_env": "E2E_SMTP_USER",
                "smtp_password_env": "E2E_SMTP_PASSWORD", "from": "Trackhouse <th@e2e.test>", "tls_ca_file": cert}
        project["integrations"] = [
            {"id": "hooks", "kind": "webhook", "url": hook_url + "/hooks", "secret_env": "E2E_HOOK_SECRET", "since": since},
            {"id": "flaky", "kind": "webhook", "url": hook_url + "/flaky", "secret_env": "E2E_HOOK_SECRET", "since": iso(time.time())},
            dict(mail, id="digest", kind="email_digest", to="team@e2e.test", period="daily", since=iso(time.time() - 3 * 86_400)),
            dict(mail, id="forward", kind="deactivation_forward", to="support@e2e.test", since=iso(time.time() - 86_400))]
        json.dump(registry, open(registry_path, "w"))
        env = dict(os.environ, E2E_HOOK_SECRET=SECRET, E2E_SMTP_USER="mailer", E2E_SMTP_PASSWORD="s3cret-pass")
        port = free_port()
        serve = start_serve(data, port, env)

        # Live traffic: new sites activate; some deactivate, some of those come back, a few
        # are "gone" (the flaky receiver answers 410 for them).
        sent = {}
        for round_index, route in enumerate(["track", "deactivate", "track"]):
            for index in range(LIVE_SITES):
                if round_index > 0 and index % (2 if round_index == 1 else 4):
                    continue
                host = f"{'gone' if index % 10 == 0 else 'live'}-{index}.e2e.test"
                fields = {"hash": project["hash"], "url": f"https://{host}", "admin_email": f"admin@{host}",
                          "first_name": "Ada", "last_name": "Lovelace"}
                if route == "deactivate":
                    fields.update(reason_id="temporary-deactivation", reason_info="testing")
                assert post(port, route, fields) == 200
                sent.setdefault(host, []).append(time.time())
            time.sleep(1.1)
        def total(status):
            return api(port, token, f"/api/v1/projects/{project['id']}/deliveries?status={status}&per_page=1")["total"]
        # While `flaky` answers 503: its deliveries are pending (retried with backoff).
        pending_while_503 = total("pending")
        # kill -9 in the middle of delivering the backlog, then a restart.
        time.sleep(3)
        serve.send_signal(signal.SIGKILL)
        serve.wait()
        killed_with = len({r[0] for r in Hooks.requests["/hooks"]})
        serve = start_serve(data, port, env)

        # Wait until the warehouse holds the live events and every expected id arrived.
        deadline = time.time() + 600
        while time.time() < deadline:
            expected = expected_lifecycle(data, project["id"], since)
            ids = {event_id for events in expected.values() for event_id, _ in events}
            live = sum(1 for site in expected if site.endswith(".e2e.test"))
            with Hooks.lock:
                got = {r[0] for r in Hooks.requests["/hooks"]}
            if live >= LIVE_SITES and ids <= got:
                break
            time.sleep(2)
        time.sleep(3)
        with Hooks.lock:
            hooks = list(Hooks.requests["/hooks"])
            flaky = list(Hooks.requests["/flaky"])
        got_ids = [r[0] for r in hooks]
        check(ids == set(got_ids), f"hooks: every expected lifecycle event arrived and no other "
                                   f"({len(ids)} expected, {len(set(got_ids))} distinct received, "
                                   f"{len(got_ids) - len(set(got_ids))} repeats after the kill -9 at {killed_with})")
        check(all(r[4] for r in hooks + flaky), f"every signature valid ({len(hooks) + len(flaky)} requests)")
        order_ok = True
        for site, events in expected.items():
            first_seen = []
            for r in hooks:
                if r[2] == site and r[0] not in first_seen:
                    first_seen.append(r[0])
            order_ok &= first_seen == [event_id for event_id, _ in events]
        check(order_ok, f"in lifecycle order per site ({len(expected)} sites)")
        types = collections.Counter(kind for events in expected.values() for _, kind in events)
        check(types["site.activated"] > 0 and types["site.deactivated"] > 0, f"event types delivered: {dict(types)}")
        latencies = []
        for r in hooks:
            if r[2].endswith(".e2e.test") and r[1] == "site.activated":
                latencies.append(r[5] - sent[r[2]][0])
        check(latencies and max(latencies) < 15 + 5 + 60, f"live activations: first delivery {min(latencies):.1f}–{max(latencies):.1f} s "
                                                          f"after the POST (freshness 15 s + delivery; includes the kill -9 restart)")

        # The deliveries API: every state of the flaky integration, all delivered for hooks.
        listing = api(port, token, f"/api/v1/projects/{project['id']}/deliveries?per_page=500")
        by_integration = collections.Counter((d["integration"], d["status"]) for d in listing["deliveries"])
        check(pending_while_503 > 0 and by_integration[("flaky", "dead")] > 0 and by_integration[("flaky", "delivered")] > 0,
              f"API states: pending={pending_while_503} while flaky answered 503; at the end {dict(by_integration)} "
              f"(first 500 listed); totals pending={total('pending')} delivered={total('delivered')} dead={total('dead')}")
        dead = [d for d in listing["deliveries"] if d["status"] == "dead"]
        check(all(d["last_status"] == 410 for d in dead if d["integration"] == "flaky"), "dead flaky deliveries carry their 410")
        check(by_integration[("hooks", "pending")] == 0 and by_integration[("hooks", "dead")] == 0, "hooks: nothing pending or dead")
        cli = run("deliveries", "--data", data, "--project", project["id"], "--status", "dead")
        check("flaky" in cli and "410" in cli, "trackhouse deliveries --status dead lists them")

        # Mail: digests (daily, the closed days since `since`) and forwards.
        deadline = time.time() + 120
        forwards_expected = sum(1 for site, events in expected_lifecycle(data, project["id"], iso(time.time() - 86_400)).items()
                                for _, kind in events if kind == "site.deactivated")
        while time.time() < deadline:
            messages = [json.load(open(os.path.join(mails, name))) for name in sorted(os.listdir(mails)) if name.endswith(".json")]
            digests = [m for m in messages if "team@e2e.test" in m["to"]]
            forwards = [m for m in messages if "support@e2e.test" in m["to"]]
            if len(digests) >= 2 and len({m["delivery"] for m in forwards}) >= forwards_expected:
                break
            time.sleep(2)
        check(len(digests) >= 2, f"digests arrived: {len(digests)} ({[m['subject'] for m in digests][:3]})")
        check(len({m["delivery"] for m in forwards}) == forwards_expected,
              f"forwards: {len({m['delivery'] for m in forwards})} distinct of {forwards_expected} deactivations since the forward's since")
        readable = all(m["tls"] and m["authenticated"] and [p["type"] for p in m["parts"]] == ["text/plain", "text/html"]
                       for m in digests + forwards)
        check(readable, "every mail over STARTTLS with AUTH, text/plain + text/html")
        if digests:
            html = digests[-1]["parts"][1]["content"]
            text = digests[-1]["parts"][0]["content"]
            check("<table" in html and "width" in html and "New sites" in text, "digest: inline bar charts in HTML, figures in text")
        if forwards:
            text = forwards[-1]["parts"][0]["content"]
            check("temporary-deactivation" in text or "reason" in text.lower(), "forward: the reason in the text part")
        print(json.dumps({"seconds": round(time.time() - started), "expected_lifecycle_events": len(ids),
                          "hooks_requests": len(hooks), "flaky_requests": len(flaky), "mails": len(messages)}))
    finally:
        if serve:
            serve.terminate()
            serve.wait()
        smtp.terminate()
        receiver.shutdown()
        if not failures:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept for inspection:", work)
    print("\n".join(results))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
