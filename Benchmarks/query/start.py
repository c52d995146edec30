"""Small queries as a whole `trackhouse query` process (start, log, footers, query, exit)
against DuckDB in process: warm (one connection, views made once) and fresh (a new
connection and views per query, what a script that runs one query pays). Interleaved rounds;
medians.

Usage: .venv/bin/python Benchmarks/query/start.py <data> <binary> [<binary B>] [rounds]
(with two binaries, both run in each round: a before/after of the start-up path).
"""
import statistics
import subprocess
import sys
import time

from timing import duckdb_over

args = sys.argv[1:]
data = args[0]
binaries = [a for a in args[1:] if not a.isdigit()]
rounds = int(next((a for a in args[1:] if a.isdigit()), "15"))
queries = [
    # The fixed cost: process start, flags, the log, an empty plan (DuckDB: a round trip).
    ("select_1", "SELECT 1"),
    ("count", "SELECT count(*) FROM events"),
    ("one_project_count", "SELECT count(*) FROM events WHERE project_id = 'acme-seo'"),
    ("sites_by_status", "SELECT status, count(*) FROM sites GROUP BY 1"),
    # Every events row counted by one dictionary column (its pages' runs, not a code per row).
    ("events_by_php_version", "SELECT php_version, count(*) FROM events GROUP BY 1"),
]
# DuckDB's `sites` view reads `sites/` only: while `serve` runs that is the base, minutes older
# than our `sites` (base + deltas). The same answer from DuckDB needs the deltas too; what its
# experts would write for the latest state (README "Reading the warehouse"): the newest row of
# each site in the deltas, and the base's rows no delta replaces (an anti-join).
DUCK_LATEST_SITES_BY_STATUS = """
WITH d AS (
  SELECT * EXCLUDE (filename) FROM read_parquet('{root}/sites-delta/*/*.parquet', filename = true, union_by_name = true)
  QUALIFY row_number() OVER (PARTITION BY project_id, site_key ORDER BY filename DESC) = 1)
SELECT status, count(*) FROM (
  SELECT b.status FROM read_parquet('{root}/sites/*/*.parquet') b ANTI JOIN d USING (project_id, site_key)
  UNION ALL SELECT status FROM d) GROUP BY 1
"""


def process_ms(binary, sql):
    started = time.perf_counter()
    out = subprocess.run([binary, "query", "--data", data, "--format", "csv", sql], capture_output=True, text=True)
    elapsed = (time.perf_counter() - started) * 1000
    if out.returncode != 0:
        raise SystemExit(f"{binary}: {out.stderr.strip()}")
    return elapsed


warm = duckdb_over(data)
root = f"{data}/warehouse"
if warm.execute(f"SELECT count(*) FROM glob('{root}/sites-delta/*/*.parquet')").fetchone()[0] > 0:
    queries.append(("sites_by_status, DuckDB reading base + deltas", "SELECT status, count(*) FROM sites GROUP BY 1",
                    DUCK_LATEST_SITES_BY_STATUS.format(root=root)))
events = warm.execute("SELECT count(*) FROM events").fetchone()[0]
files = len(warm.execute(f"SELECT * FROM glob('{data}/warehouse/events/**/*.parquet')").fetchall())
print(f"dataset: {events} events in {files} events files; {rounds} interleaved rounds, medians in ms")
header = " | ".join(f"ours {i + 1} process" for i in range(len(binaries)))
print(f"| query | {header} | DuckDB warm | DuckDB fresh connection |")
print("|---" * (3 + len(binaries)) + "|")
for name, sql, *duck_sql in queries:
    duck = duck_sql[0] if duck_sql else sql
    if duck_sql:
        # The same answer, or the row compares different work.
        ours_rows = subprocess.run([binaries[0], "query", "--data", data, "--format", "csv", sql], capture_output=True, text=True).stdout
        got = sorted(tuple(line.split(",")) for line in ours_rows.strip().splitlines()[1:])
        want = sorted((str(a) if a is not None else "", str(b)) for a, b in warm.execute(duck).fetchall())
        if got != want:
            raise SystemExit(f"{name}: ours {got} != DuckDB {want}")
    ours = [[] for _ in binaries]
    duck_warm, duck_fresh = [], []
    warm.execute(duck).fetchall()
    for _ in range(rounds):
        for index, binary in enumerate(binaries):
            ours[index].append(process_ms(binary, sql))
        started = time.perf_counter()
        warm.execute(duck).fetchall()
        duck_warm.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        fresh = duckdb_over(data)
        fresh.execute(duck).fetchall()
        fresh.close()
        duck_fresh.append((time.perf_counter() - started) * 1000)
    cells = " | ".join(f"{statistics.median(o):.1f}" for o in ours)
    print(f"| {name} | {cells} | {statistics.median(duck_warm):.1f} | {statistics.median(duck_fresh):.1f} |")
