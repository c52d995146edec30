#!/usr/bin/env python3
"""A stand-in for the dashboard API (CONTRACT §7), for working on the page before the real
endpoints exist. Stdlib only. It answers /api/v1/... by running SQL with `trackhouse query`
over a compacted warehouse and proxies every other path (the page and its assets) to a
running `trackhouse serve`.

    mock_api.py --bin .build/debug/trackhouse --data D --upstream 8080 --port 8090

It accepts any bearer token. Its numbers follow the contract's definitions closely but not
exactly (active sites come from the `sites` table, i.e. it assumes `to`/`at` lie after the
last event); the real API is the reference.
"""
import argparse, datetime as dt, json, subprocess, urllib.parse, urllib.request
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

ARGS = None


def sql(query):
    out = subprocess.run([ARGS.bin, "query", "--data", ARGS.data, "--format", "json", query],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise ValueError(out.stderr.strip() or out.stdout.strip())
    return json.loads(out.stdout)


def lit(value):
    return "'" + str(value).replace("'", "''") + "'"


def ts(value):
    return "TIMESTAMP " + lit(value.replace("T", " ").replace("Z", ""))


def parse_time(value):
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def buckets(start, end, interval):
    """Bucket starts covering [start, end): weeks start on Monday."""
    t = start.replace(minute=0, second=0, microsecond=0)
    if interval != "hour":
        t = t.replace(hour=0)
    if interval == "week":
        t -= dt.timedelta(days=t.weekday())
    if interval == "month":
        t = t.replace(day=1)
    out = []
    while t < end:
        out.append(t)
        if interval == "hour": t += dt.timedelta(hours=1)
        elif interval == "day": t += dt.timedelta(days=1)
        elif interval == "week": t += dt.timedelta(days=7)
        else: t = (t.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def stats(pid, q):
    rng = f"project_id = {lit(pid)} AND received_at >= {ts(q['from'])} AND received_at < {ts(q['to'])}"
    one = lambda s: sql(s)["rows"][0][0]
    active_from = iso(parse_time(q["to"]) - dt.timedelta(days=14))
    return {
        "opt_in_sites": one(f"SELECT count(DISTINCT site_key) FROM events WHERE event = 'track' AND {rng}"),
        "new_sites": one(f"SELECT count(*) FROM sites WHERE project_id = {lit(pid)} AND first_seen >= {ts(q['from'])} AND first_seen < {ts(q['to'])}"),
        "deactivations": one(f"SELECT count(*) FROM events WHERE event = 'deactivate' AND {rng}"),
        "skipped": one(f"SELECT count(DISTINCT site_hash) FROM events WHERE event = 'skip' AND (previously_skipped IS NULL OR previously_skipped = false) AND {rng}"),
        "active_sites": one(f"SELECT count(*) FROM sites WHERE project_id = {lit(pid)} AND status = 'active' AND last_seen >= {ts(active_from)}"),
    }


def timeseries(pid, q):
    metric, interval = q.get("metric", "events"), q.get("interval", "day")
    key = q.get("breakdown") or "NULL"
    limit = int(q.get("limit", 10))
    rng = f"project_id = {lit(pid)} AND received_at >= {ts(q['from'])} AND received_at < {ts(q['to'])}"
    unit = "week" if interval == "week" else interval
    count, where, table, tcol = "count(*)", rng, "events", "received_at"
    if metric == "sites": count, where = "count(DISTINCT site_key)", rng + " AND event = 'track'"
    if metric == "deactivations": where = rng + " AND event = 'deactivate'"
    if metric == "skips": count, where = "count(DISTINCT site_hash)", rng + " AND event = 'skip'"
    if metric == "new_sites":
        table, tcol = "sites", "first_seen"
        where = f"project_id = {lit(pid)} AND first_seen >= {ts(q['from'])} AND first_seen < {ts(q['to'])}"
    rows = sql(f"SELECT date_trunc('{unit}', {tcol}) AS b, {key} AS k, {count} AS n FROM {table} WHERE {where} GROUP BY 1, 2")["rows"]
    starts = buckets(parse_time(q["from"]), parse_time(q["to"]), interval)
    by_key = {}
    for b, k, n in rows:
        by_key.setdefault(k, {})[iso(parse_time(b))] = n
    ordered = sorted(by_key, key=lambda k: (-sum(by_key[k].values()), str(k)))
    series = []
    keys = ordered[:limit] if q.get("breakdown") else ordered[:1] or [None]
    for k in keys:
        series.append({"key": k, "points": [[iso(t), by_key.get(k, {}).get(iso(t), 0)] for t in starts]})
    if q.get("breakdown") and len(ordered) > limit:
        rest = ordered[limit:]
        series.append({"key": "__other__", "points": [[iso(t), sum(by_key[k].get(iso(t), 0) for k in rest)] for t in starts]})
    return {"series": series}


def breakdown(pid, q):
    dim, limit = q["dim"], int(q.get("limit", 20))
    since = iso(parse_time(q["at"]) - dt.timedelta(days=int(q.get("active_days", 14))))
    rows = sql(f"SELECT {dim} AS v, count(*) AS n FROM sites WHERE project_id = {lit(pid)} AND status = 'active' "
               f"AND last_seen >= {ts(since)} GROUP BY 1 ORDER BY 2 DESC, 1 ASC")["rows"]
    total = sum(n for _, n in rows)
    values = [{"value": v, "sites": n} for v, n in rows[:limit]]
    return {"total": total, "values": values, "other": total - sum(v["sites"] for v in values)}


def deactivations(pid, q):
    rng = f"project_id = {lit(pid)} AND event = 'deactivate' AND received_at >= {ts(q['from'])} AND received_at < {ts(q['to'])}"
    page, per = int(q.get("page", 1)), int(q.get("per_page", 50))
    reasons = sql(f"SELECT reason_id, count(*) FROM events WHERE {rng} GROUP BY 1 ORDER BY 2 DESC")["rows"]
    total = sql(f"SELECT count(*) FROM events WHERE {rng}")["rows"][0][0]
    result = sql(f"SELECT * FROM events WHERE {rng} ORDER BY received_at DESC, event_id DESC LIMIT {per} OFFSET {(page - 1) * per}")
    names = [c["name"] for c in result["columns"]]
    return {"reasons": [{"reason_id": r, "count": n} for r, n in reasons], "total": total,
            "events": [dict(zip(names, row)) for row in result["rows"]]}


def sites(pid, q, csv):
    where = [f"project_id = {lit(pid)}"]
    if q.get("status"): where.append(f"status = {lit(q['status'])}")
    if q.get("q"):
        like = lit("%" + q["q"] + "%")
        where.append(f"(site_key ILIKE {like} OR site_name ILIKE {like} OR admin_email ILIKE {like})")
    for k, v in q.items():
        if k not in ("status", "q", "sort", "page", "per_page", "format"):
            where.append(f"CAST({k} AS VARCHAR) = {lit(v)}")
    sort = q.get("sort", "-last_seen")
    order = f"{sort.lstrip('-')} {'DESC' if sort.startswith('-') else 'ASC'}, site_key ASC"
    page, per = int(q.get("page", 1)), int(q.get("per_page", 50))
    w = " AND ".join(where)
    total = sql(f"SELECT count(*) FROM sites WHERE {w}")["rows"][0][0]
    paged = not csv or "page" in q or "per_page" in q  # an unpaged CSV is every matching row
    limit = f" LIMIT {per} OFFSET {(page - 1) * per}" if paged else ""
    result = sql(f"SELECT * FROM sites WHERE {w} ORDER BY {order}{limit}")
    names = [c["name"] for c in result["columns"]]
    if csv:
        lines = [",".join(names)] + [",".join("" if v is None else json.dumps(v) if not isinstance(v, str) else '"' + v.replace('"', '""') + '"' for v in row) for row in result["rows"]]
        return "\n".join(lines) + "\n"
    return {"total": total, "page": page, "per_page": per, "sites": [dict(zip(names, row)) for row in result["rows"]]}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if not url.path.startswith("/api/v1/"):
            return self.proxy()
        q = dict(urllib.parse.parse_qsl(url.query))
        parts = url.path.split("/")[3:]
        if not self.headers.get("Authorization", "").startswith("Bearer "):
            return self.send(401, {"error": "unauthorized", "message": "missing bearer token"})
        try:
            if parts == ["projects"]:
                reg = json.load(open(ARGS.data + "/projects.json"))
                return self.send(200, {"projects": [{"id": p["id"], "name": p["name"]} for p in reg["projects"]]})
            pid, what = parts[1], parts[2]
            handlers = {"stats": stats, "timeseries": timeseries, "breakdown": breakdown, "deactivations": deactivations}
            if what == "sites":
                body = sites(pid, q, q.get("format") == "csv")
                return self.send(200, body) if isinstance(body, dict) else self.send(200, body, "text/csv; charset=utf-8")
            return self.send(200, handlers[what](pid, q))
        except (KeyError, IndexError) as e:
            return self.send(404, {"error": "not_found", "message": f"no such endpoint or parameter: {e}"})
        except ValueError as e:
            return self.send(400, {"error": "bad_request", "message": str(e)})

    def proxy(self):
        req = urllib.request.Request(f"http://127.0.0.1:{ARGS.upstream}{self.path}")
        try:
            with urllib.request.urlopen(req) as r:
                body, status, ctype = r.read(), r.status, r.headers.get("Content-Type")
        except urllib.error.HTTPError as e:
            body, status, ctype = e.read(), e.code, e.headers.get("Content-Type") or "text/plain"
        self.send(status, body, ctype)

    def send(self, status, body, ctype="application/json; charset=utf-8"):
        data = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--upstream", type=int, required=True)
    p.add_argument("--port", type=int, default=8090)
    ARGS = p.parse_args()
    ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler).serve_forever()
