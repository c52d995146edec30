"""Random differential test of the dashboard API (CONTRACT §7): a `trackhouse serve` on the
data answers `timeseries` (every metric and interval, aligned and unaligned ranges), `stats`,
`breakdown` (random dimension, active days and limit), `deactivations` (reasons, total,
pages of events newest first) and `sites` (status, q, equality
filters, sort column and direction, paging); DuckDB computes each answer from the
contract's definitions over the same warehouse files (the sites order in Python: the sort
column, NULLs last either way, ties by site_key). Prints each mismatch; exit
status 1 if any.

usage: api_random_differential.py <trackhouse binary> <data dir> <port> <checks> <seed>
"""
import datetime
import json
import random
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import duckdb

BIN, data, port, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
token = subprocess.run([BIN, "token", "create", "--admin", "--data", data], capture_output=True, text=True).stdout.strip().split()[-1]
srv = subprocess.Popen([BIN, "serve", "--data", data, "--port", str(port), "--role", "query", "--compact-interval", "0", "--log-level", "error"])
for _ in range(100):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz"); break
    except Exception: time.sleep(0.1)
time.sleep(1.5)
con = duckdb.connect(); con.execute("SET TimeZone='UTC'")
root = data + "/warehouse"
con.execute(f"CREATE VIEW events AS SELECT * EXCLUDE (month, project) FROM read_parquet('{root}/events/**/*.parquet', hive_partitioning=true, hive_types_autocast=false)")
con.execute(f"CREATE VIEW sites AS SELECT * EXCLUDE (project) FROM read_parquet('{root}/sites/**/*.parquet', hive_partitioning=true, hive_types_autocast=false)")
projects = [r[0] for r in con.execute("SELECT DISTINCT project_id FROM events").fetchall()]
tmin, tmax = con.execute("SELECT min(received_at), max(received_at) FROM events WHERE received_at > TIMESTAMPTZ '2000-01-01' AND received_at < TIMESTAMPTZ '3000-01-01'").fetchone()
rng = random.Random(seed)
def iso(t): return t.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')
def get(path):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req) as r: return json.loads(r.read())
    except urllib.error.HTTPError as e: return {"http_error": e.code, "body": e.read().decode()[:200]}
bad = 0
span = (tmax - tmin)
for i in range(n):
    p = rng.choice(projects)
    interval = rng.choice(["hour", "day", "day", "week", "month"])
    maxlen = {"hour": datetime.timedelta(days=5), "day": datetime.timedelta(days=90), "week": datetime.timedelta(days=400), "month": datetime.timedelta(days=800)}[interval]
    a = tmin + datetime.timedelta(seconds=rng.uniform(-86400*3, span.total_seconds()))
    if rng.random() < 0.5: a = a.replace(minute=0, second=0, microsecond=0)
    b = a + datetime.timedelta(seconds=rng.uniform(1, maxlen.total_seconds()))
    if rng.random() < 0.3: b = b.replace(hour=0, minute=0, second=0, microsecond=0)
    if b <= a: b = a + datetime.timedelta(hours=1)
    metric = rng.choice(["events", "sites", "deactivations", "skips", "new_sites"])
    got = get(f"/api/v1/projects/{p}/timeseries?metric={metric}&interval={interval}&from={iso(a)}&to={iso(b)}")
    if "series" not in got:
        print("API ERROR", metric, interval, iso(a), iso(b), got); bad += 1; continue
    pts = {x[0]: x[1] for x in got["series"][0]["points"]}
    cond = "received_at >= ? AND received_at < ? AND project_id = ?"
    if metric == "events": sql = f"SELECT date_trunc('{interval}', received_at) b, count(*) FROM events WHERE {cond} GROUP BY 1"
    elif metric == "deactivations": sql = f"SELECT date_trunc('{interval}', received_at) b, count(*) FROM events WHERE {cond} AND event = 'deactivate' GROUP BY 1"
    elif metric == "sites": sql = f"SELECT date_trunc('{interval}', received_at) b, count(DISTINCT site_key) FROM events WHERE {cond} AND event = 'track' GROUP BY 1"
    elif metric == "skips": sql = f"SELECT date_trunc('{interval}', received_at) b, count(DISTINCT site_hash) FROM events WHERE {cond} AND event = 'skip' AND previously_skipped IS NOT TRUE GROUP BY 1"
    else: sql = f"SELECT date_trunc('{interval}', first_seen) b, count(*) FROM sites WHERE first_seen >= ? AND first_seen < ? AND project_id = ? GROUP BY 1"
    want = {iso(r[0]): r[1] for r in con.execute(sql, [a, b, p]).fetchall()}
    def norm(k): return k.replace(".000000Z", "Z")
    want = {norm(k): v for k, v in want.items() if v}
    gotnz = {k: v for k, v in pts.items() if v}
    # first bucket should be the bucket containing `from`
    first = iso(con.execute(f"SELECT date_trunc('{interval}', ?::TIMESTAMPTZ)", [a]).fetchone()[0])
    firstok = got["series"][0]["points"][0][0] == norm(first) if got["series"][0]["points"] else False
    if want != gotnz or not firstok:
        bad += 1
        print("MISMATCH", p, metric, interval, iso(a), iso(b), "first bucket ok" if firstok else f"first bucket {got['series'][0]['points'][:1]} want {norm(first)}")
        diff = {k: (gotnz.get(k), want.get(k)) for k in set(want) | set(gotnz) if gotnz.get(k) != want.get(k)}
        print("   ", list(diff.items())[:5])
latest_sql = """WITH l AS (SELECT site_key, event, received_at, {dim} AS v, row_number() OVER (PARTITION BY site_key ORDER BY received_at DESC, event_id DESC) rn
  FROM events WHERE project_id = ? AND site_key IS NOT NULL AND received_at < ?) SELECT v, count(*) FROM l WHERE rn = 1 AND event = 'track' AND received_at >= ? GROUP BY v"""
for i in range(n):
    p = rng.choice(projects)
    a = tmin + datetime.timedelta(seconds=rng.uniform(-86400*3, span.total_seconds()))
    b = a + datetime.timedelta(seconds=rng.uniform(3600, 86400 * 120))
    got = get(f"/api/v1/projects/{p}/stats?from={iso(a)}&to={iso(b)}")
    cond = "received_at >= ? AND received_at < ? AND project_id = ?"
    want = {
        "opt_in_sites": con.execute(f"SELECT count(DISTINCT site_key) FROM events WHERE {cond} AND event = 'track'", [a, b, p]).fetchone()[0],
        "new_sites": con.execute("SELECT count(*) FROM sites WHERE first_seen >= ? AND first_seen < ? AND project_id = ?", [a, b, p]).fetchone()[0],
        "deactivations": con.execute(f"SELECT count(*) FROM events WHERE {cond} AND event = 'deactivate'", [a, b, p]).fetchone()[0],
        "skipped": con.execute(f"SELECT count(DISTINCT site_hash) FROM events WHERE {cond} AND event = 'skip' AND previously_skipped IS NOT TRUE", [a, b, p]).fetchone()[0],
        "active_sites": sum(r[1] for r in con.execute(latest_sql.format(dim="1"), [p, b, b - datetime.timedelta(days=14)]).fetchall()),
    }
    if got != want:
        bad += 1; print("STATS MISMATCH", p, iso(a), iso(b), got, want)
    dim = rng.choice(["php_version", "wp_locale", "php_minor", "project_version", "server_software", "wp_theme_slug", "is_local", "mysql_minor"])
    days = rng.choice([1, 7, 14, 30, 90])
    limit = rng.choice([1, 3, 20])
    got = get(f"/api/v1/projects/{p}/breakdown?dim={dim}&at={iso(b)}&active_days={days}&limit={limit}")
    rows = con.execute(latest_sql.format(dim=dim), [p, b, b - datetime.timedelta(days=days)]).fetchall()
    total = sum(r[1] for r in rows)
    # Order: sites desc, then value asc (NULL after every value).
    rows_sorted = sorted(rows, key=lambda r: (-r[1], (r[0] is None, r[0] if not isinstance(r[0], bool) else int(r[0]))))
    listed = rows_sorted[:limit]
    want = {"total": total, "values": [{"value": v, "sites": c} for v, c in listed], "other": total - sum(c for _, c in listed)}
    if got != want:
        bad += 1; print("BREAKDOWN MISMATCH", p, dim, iso(b), days, limit, "\n   got ", json.dumps(got)[:300], "\n   want", json.dumps(want)[:300])
# deactivations: reasons over the range (count desc, reason asc, NULL last) and the events
# newest first (received_at, then event_id), paged.
for i in range(n):
    p = rng.choice(projects)
    a = tmin + datetime.timedelta(seconds=rng.uniform(-86400 * 3, span.total_seconds()))
    b = a + datetime.timedelta(seconds=rng.uniform(3600, 86400 * 200))
    per_page, page = rng.choice([1, 7, 50]), rng.choice([1, 2, 4])
    got = get(f"/api/v1/projects/{p}/deactivations?from={iso(a)}&to={iso(b)}&page={page}&per_page={per_page}")
    cond = "received_at >= ? AND received_at < ? AND project_id = ? AND event = 'deactivate'"
    reasons = [{"reason_id": r, "count": c} for r, c in con.execute(
        f"SELECT reason_id, count(*) FROM events WHERE {cond} GROUP BY 1 ORDER BY 2 DESC, 1 ASC NULLS LAST", [a, b, p]).fetchall()]
    total = con.execute(f"SELECT count(*) FROM events WHERE {cond}", [a, b, p]).fetchone()[0]
    ids = [r[0] for r in con.execute(f"SELECT event_id FROM events WHERE {cond} ORDER BY received_at DESC, event_id DESC "
                                     f"LIMIT {per_page} OFFSET {(page - 1) * per_page}", [a, b, p]).fetchall()]
    got_ids = [e.get("event_id") for e in got.get("events", [])]
    if got.get("reasons") != reasons or got.get("total") != total or got_ids != ids:
        bad += 1
        print("DEACTIVATIONS MISMATCH", p, iso(a), iso(b), page, per_page, "\n   got ", json.dumps({k: got.get(k) for k in ("reasons", "total")})[:300], got_ids[:5],
              "\n   want", json.dumps({"reasons": reasons, "total": total})[:300], ids[:5])

# sites: filters, q, sort and paging against a sort in Python over DuckDB's rows.
site_rows = {}
columns = [d[0] for d in con.execute("SELECT * FROM sites LIMIT 0").description]
for p in projects:
    site_rows[p] = [dict(zip(columns, r)) for r in con.execute("SELECT * FROM sites WHERE project_id = ?", [p]).fetchall()]
for i in range(n):
    p = rng.choice(projects)
    rows = site_rows[p]
    params = {}
    status = rng.choice([None, "active", "deactivated"])
    if status: params["status"] = status
    if rng.random() < 0.4 and rows:
        key = rng.choice(rows)["site_key"] or "a"
        start = rng.randint(0, max(0, len(key) - 2))
        q = key[start:start + rng.randint(1, 4)]
        params["q"] = q.upper() if rng.random() < 0.3 else q
    if rng.random() < 0.3:
        column = rng.choice(["php_minor", "wp_locale", "event"])
        values = sorted({r[column] for r in rows}, key=lambda v: (v is None, v or ""))
        params[column] = rng.choice(values) if values else ""
        if params[column] is None: params[column] = ""
    sort = rng.choice(["last_seen", "first_seen", "site_key", "php_version", "event_count", "wp_locale", "users_total", "received_at"])
    descending = rng.random() < 0.5
    if rng.random() < 0.8: params["sort"] = ("-" if descending else "") + sort
    else: sort, descending = "last_seen", True
    per_page = rng.choice([1, 5, 50])
    page = rng.choice([1, 1, 2, 3])
    params["per_page"], params["page"] = per_page, page
    got = get(f"/api/v1/projects/{p}/sites?" + urllib.parse.urlencode(params))
    def keep(r):
        if status and r["status"] != status: return False
        if "q" in params:
            needle = params["q"].lower()
            if not any(r[c] is not None and needle in r[c].lower() for c in ("site_key", "site_name", "admin_email")): return False
        for column in ("php_minor", "wp_locale", "event"):
            if column in params:
                if params[column] == "":
                    if r[column] is not None: return False
                elif r[column] != params[column]: return False
        return True
    matched = [r for r in rows if keep(r)]
    present = [r for r in matched if r[sort] is not None]
    absent = [r for r in matched if r[sort] is None]
    present.sort(key=lambda r: r["site_key"].encode())
    present.sort(key=lambda r: r[sort].encode() if isinstance(r[sort], str) else r[sort], reverse=descending)
    absent.sort(key=lambda r: r["site_key"].encode())
    ordered = present + absent
    want_keys = [r["site_key"] for r in ordered[(page - 1) * per_page: page * per_page]]
    got_keys = [s["site_key"] for s in got.get("sites", [])]
    if got.get("total") != len(matched) or got_keys != want_keys:
        bad += 1
        print("SITES MISMATCH", p, params, "total", got.get("total"), len(matched), "\n   got ", got_keys[:8], "\n   want", want_keys[:8])
srv.terminate()
srv.wait()
print("checks", n, "mismatches", bad)
sys.exit(1 if bad else 0)
