"""Random differential test: random queries of the CONTRACT §6 SQL subset, run by DuckDB over
our warehouse files and by `trackhouse query`, must give the same rows (as multisets, or in
order when the ORDER BY is total). Errors must agree too, except the documented differences
(Sources/Query/README.md): a sum beyond 64 bits (DuckDB: HUGEINT) and BIGINT arithmetic
overflow DuckDB's optimizer rewrites away. Prints each mismatch; exit status 1 if any.

usage: random_differential.py <trackhouse binary> <data dir> <queries> <seed>
"""
import datetime
import decimal
import json
import math
import random
import subprocess
import sys

import duckdb

BIN, data, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
con = duckdb.connect(); con.execute("SET TimeZone='UTC'")
root = data + "/warehouse"
con.execute(f"CREATE VIEW events AS SELECT * EXCLUDE (month, project) FROM read_parquet('{root}/events/**/*.parquet', hive_partitioning=true, hive_types_autocast=false)")
con.execute(f"CREATE VIEW sites AS SELECT * EXCLUDE (project) FROM read_parquet('{root}/sites/**/*.parquet', hive_partitioning=true, hive_types_autocast=false)")
STRING_COLUMNS = ["event","site_key","site_hash","url","site_name","admin_email","project_version","client_version","server_software","php_version","php_minor","mysql_minor","wp_minor","wp_version","wp_locale","wp_theme_slug","reason_id","reason_info","plugins","extra","users","project_id","ip_address"]
INT_COLUMNS = ["users_total","active_plugins","inactive_plugins"]
BOOL_COLUMNS = ["php_soap","php_curl","wp_debug_mode","wp_multisite","is_local","tracking_skipped","previously_skipped"]
TIME_COLUMNS = ["received_at"]
def lit_s(): return "'" + rng.choice(["track","deactivate","skip","8.1","8.2","7.4","en_US","", "a", "x%", "%shop%", "6.4", "other", "acme-seo", "https://www.example.com", "Z", "é"]).replace("'", "''") + "'"
def sexpr(d=0):
    c = rng.random()
    if c < 0.5 or d > 2: return rng.choice(STRING_COLUMNS)
    if c < 0.6: return f"lower({sexpr(d+1)})"
    if c < 0.7: return f"upper({sexpr(d+1)})"
    if c < 0.8: return f"substr({sexpr(d+1)}, {rng.randint(-3,5)}, {rng.randint(0,6)})"
    if c < 0.9: return f"coalesce({sexpr(d+1)}, {lit_s()})"
    if c < 0.93: return f"json_extract_string({rng.choice(['extra','users','plugins'])}, '{rng.choice(['$.total_orders','$.page_builder','$.conversion_rate','$.pro_active','$.nope','$.editor','$.administrator','$[0].slug','$[1].name','$[0]','$'])}')"
    # Not timestamps: DuckDB reads our UTC timestamps as TIMESTAMPTZ and appends "+00".
    if c < 0.96: return f"CAST({rng.choice([iexpr(d+1), rng.choice(BOOL_COLUMNS)])} AS VARCHAR)"
    return f"CASE WHEN {pred(d+1)} THEN {sexpr(d+1)} ELSE {lit_s()} END"
def iexpr(d=0):
    c = rng.random()
    if c < 0.5 or d > 2: return rng.choice(INT_COLUMNS)
    if c < 0.6: return f"({iexpr(d+1)} {rng.choice(['+','-','*','%'])} {rng.randint(1,9)})"
    if c < 0.7: return f"length({sexpr(d+1)})"
    if c < 0.8: return f"CASE WHEN {pred(d+1)} THEN {rng.randint(0,5)} ELSE {iexpr(d+1)} END"
    if c < 0.85: return f"coalesce({iexpr(d+1)}, {rng.randint(-2,2)})"
    if c < 0.88: return f"({iexpr(d+1)} % {rng.choice([-3, 7, 2])})"
    if c < 0.91: return f"CAST({rng.choice(BOOL_COLUMNS)} AS BIGINT)"
    if c < 0.94: return f"CASE {rng.choice(STRING_COLUMNS)} WHEN {lit_s()} THEN 1 WHEN {lit_s()} THEN 2 ELSE 3 END"
    if c < 0.97: return f"-{rng.choice(INT_COLUMNS)}"
    return str(rng.randint(-5, 100))
def texpr(d=0):
    c = rng.random()
    if c < 0.6: return "received_at"
    return f"date_trunc('{rng.choice(['hour','day','week','month'])}', received_at)"
def pred(d=0):
    c = rng.random()
    if d > 2: c = c * 0.6
    if c < 0.12: return f"{sexpr(d+1)} = {lit_s()}"
    if c < 0.2: return f"{sexpr(d+1)} {rng.choice(['<','>','<=','>=','<>'])} {lit_s()}"
    if c < 0.28: return f"{iexpr(d+1)} {rng.choice(['<','>','<=','>=','=','<>'])} {rng.randint(-1,300)}"
    if c < 0.34: return f"{sexpr(d+1)} {rng.choice(['LIKE','ILIKE','NOT LIKE','NOT ILIKE'])} {lit_s()}"
    if c < 0.4: return f"{rng.choice(STRING_COLUMNS+INT_COLUMNS+BOOL_COLUMNS)} IS {rng.choice(['','NOT '])}NULL"
    if c < 0.45: return f"{rng.choice(STRING_COLUMNS)} IN ({', '.join(lit_s() for _ in range(rng.randint(1,4)))})"
    if c < 0.5: return f"{iexpr(d+1)} BETWEEN {rng.randint(-5,20)} AND {rng.randint(0,400)}"
    if c < 0.55: return f"received_at {rng.choice(['<','>=','>'])} TIMESTAMP '{rng.choice(['2026-01-01 00:00:00','2026-05-10 12:00:00','2000-01-01 00:00:00','2026-03-15 00:00:00'])}'"
    if c < 0.6: return rng.choice(BOOL_COLUMNS) if rng.random() < 0.5 else f"NOT {rng.choice(BOOL_COLUMNS)}"
    if c < 0.8: return f"({pred(d+1)} {rng.choice(['AND','OR'])} {pred(d+1)})"
    if c < 0.85: return f"NOT ({pred(d+1)})"
    if c < 0.88: return f"{sexpr(d+1)} {rng.choice(['LIKE','ILIKE'])} '{rng.choice(['_','%_%','a_c%','%.%','8._','%é%','_%_','%|%'])}'"
    if c < 0.91: return f"{sexpr(d+1)} BETWEEN {lit_s()} AND {lit_s()}"
    if c < 0.94: return f"{iexpr(d+1)} {rng.choice(['NOT IN','IN'])} ({', '.join(str(rng.randint(-1, 20)) for _ in range(rng.randint(1,4)))})"
    if c < 0.97: return f"received_at {rng.choice(['<','>='])} '{rng.choice(['2026-01-01','2026-05-10 12:00:00','1999-12-31'])}'"
    return f"{rng.choice(BOOL_COLUMNS)} = {rng.choice(['true','false'])}"
def agg():
    c = rng.random()
    if c < 0.2: return "count(*)"
    if c < 0.35: return f"count({rng.choice(STRING_COLUMNS+INT_COLUMNS+BOOL_COLUMNS)})"
    if c < 0.5: return f"count(DISTINCT {rng.choice([sexpr(), iexpr()])})"
    if c < 0.6: return f"sum({iexpr()})"
    if c < 0.7: return f"avg({iexpr()})"
    if c < 0.8: return f"min({rng.choice([sexpr(), iexpr(), texpr()])})"
    if c < 0.85: return f"max({rng.choice([sexpr(), iexpr(), texpr()])})"
    if c < 0.88: return f"{rng.choice(['min','max'])}({rng.choice(BOOL_COLUMNS)})"
    if c < 0.9: return f"count(DISTINCT {rng.choice(BOOL_COLUMNS + TIME_COLUMNS)})"
    return f"sum(CASE WHEN {pred()} THEN 1 ELSE 0 END)"
def query():
    table = "events" if rng.random() < 0.8 else "sites"
    k = rng.random()
    if k < 0.12:
        where = f" WHERE {pred()}" if rng.random() < 0.7 else ""
        order = ", ".join(f"{c} {rng.choice(['ASC','DESC'])} NULLS {rng.choice(['FIRST','LAST'])}" for c in rng.sample(["received_at", "site_key", "php_version", "users_total", "wp_locale"], rng.randint(1, 2))) + ", event_id"
        return f"SELECT * FROM {table}{where} ORDER BY {order} LIMIT {rng.randint(0, 40)} OFFSET {rng.randint(0, 20)}", True
    if k < 0.2:
        return f"SELECT DISTINCT {sexpr()} AS v FROM {table} WHERE {pred()} ORDER BY v NULLS FIRST LIMIT {rng.randint(1, 30)}", True
    if k < 0.28:
        return f"SELECT {sexpr()} AS g, count(*) AS n FROM {table} GROUP BY g HAVING {rng.choice(['max', 'min'])}({iexpr()}) {rng.choice(['>', '<', '='])} {rng.randint(0, 50)} OR count(*) > 3", False
    if k < 0.34:
        return f"SELECT count(*), count({sexpr()}) FROM {table} WHERE {rng.choice(STRING_COLUMNS)} {rng.choice(['IN', 'NOT IN'])} ({lit_s()}, NULL)", False
    if k < 0.4:
        return f"SELECT CASE WHEN {pred()} THEN {sexpr()} END AS c, count(*) FROM {table} GROUP BY 1", False
    where = f" WHERE {pred()}" if rng.random() < 0.7 else ""
    kind = rng.random()
    if kind < 0.5:
        keys = [rng.choice([sexpr(), iexpr(), texpr(), rng.choice(BOOL_COLUMNS)]) for _ in range(rng.randint(1,2))]
        aggs = [agg() for _ in range(rng.randint(1,3))]
        cols = keys + aggs
        having = f" HAVING count(*) > {rng.randint(0,3)}" if rng.random() < 0.2 else ""
        q = f"SELECT {', '.join(cols)} FROM {table}{where} GROUP BY {', '.join(str(i+1) for i in range(len(keys)))}{having}"
        if rng.random() < 0.4:
            order = ", ".join(f"{i+1} {rng.choice(['ASC','DESC'])} NULLS {rng.choice(['FIRST','LAST'])}" for i in range(len(cols)))
            lim = f" LIMIT {rng.randint(0,20)}" + (f" OFFSET {rng.randint(0,5)}" if rng.random() < 0.3 else "")
            return q + f" ORDER BY {order}{lim}", True
        return q, False
    if kind < 0.75:
        return f"SELECT {', '.join(agg() for _ in range(rng.randint(1,4)))} FROM {table}{where}", False
    cols = [rng.choice([sexpr(), iexpr(), texpr()]) for _ in range(rng.randint(1,3))] + ["event_id"]
    distinct = "DISTINCT " if rng.random() < 0.2 else ""
    order = ", ".join(f"{i+1} {rng.choice(['ASC','DESC'])} NULLS {rng.choice(['FIRST','LAST'])}" for i in range(len(cols)))
    return f"SELECT {distinct}{', '.join(cols)} FROM {table}{where} ORDER BY {order} LIMIT {rng.randint(1,30)} OFFSET {rng.randint(0,10)}", True

def norm(v):
    if v is None: return None
    if isinstance(v, bool): return v
    if isinstance(v, (int,)): return v
    if isinstance(v, decimal.Decimal): v = float(v)
    if isinstance(v, float):
        return ('f', v)
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None: v = v.replace(tzinfo=datetime.timezone.utc)
        return v.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')
    return v
def norm_ours(v, t):
    if v is None: return None
    if t in ('TIMESTAMP',) or (isinstance(v, str) and t.startswith('TIMESTAMP')):
        s = v.rstrip('Z')
        if '.' not in s: s += '.000000'
        else: s = s.split('.')[0] + '.' + s.split('.')[1].ljust(6, '0')
        return s + 'Z'
    if t == 'DOUBLE': return ('f', float(v))
    return v
def same(a, b):
    if isinstance(a, tuple) and isinstance(b, tuple):
        x, y = a[1], b[1]
        if math.isnan(x) and math.isnan(y): return True
        return x == y or abs(x - y) <= 1e-9 * max(abs(x), abs(y), 1)
    if isinstance(a, tuple) and isinstance(b, int): return same(a, ('f', float(b)))
    if isinstance(b, tuple) and isinstance(a, int): return same(('f', float(a)), b)
    return a == b
def key(r): return json.dumps([x[1] if isinstance(x, tuple) else x for x in r], default=str, sort_keys=True)
bad = 0
for i in range(n):
    q, ordered = query()
    try:
        theirs = [tuple(norm(v) for v in r) for r in con.execute(q).fetchall()]
        terr = None
    except Exception as e:
        theirs, terr = None, str(e).split("\n")[0]
    p = subprocess.run([BIN, "query", "--data", data, "--format", "json", q], capture_output=True, text=True)
    if p.returncode != 0:
        if terr is None and "outside BIGINT's 64-bit range" not in p.stderr and "Overflow in " not in p.stderr:
            print("OURS FAILED:", q, "\n  ", p.stderr.strip()[:300]); bad += 1
        continue
    if terr is not None:
        print("THEIRS FAILED, OURS OK:", q, "\n  ", terr[:200]); bad += 1; continue
    out = json.loads(p.stdout)
    types = [c["type"] for c in out["columns"]]
    ours = [tuple(norm_ours(v, t) for v, t in zip(r, types)) for r in out["rows"]]
    if not ordered or "LIMIT" not in q:
        ours_s, theirs_s = sorted(ours, key=key), sorted(theirs, key=key)
    else:
        ours_s, theirs_s = ours, theirs
    ok = len(ours_s) == len(theirs_s) and all(len(a) == len(b) and all(same(x, y) for x, y in zip(a, b)) for a, b in zip(ours_s, theirs_s))
    if not ok:
        bad += 1
        print("MISMATCH:", q)
        for a, b in list(zip(ours_s, theirs_s))[:50]:
            if not (len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))):
                print("   ours  ", a, "\n   theirs", b); break
        else:
            print("   rows ours", len(ours_s), "theirs", len(theirs_s))
print("queries", n, "mismatches", bad)
sys.exit(1 if bad else 0)
