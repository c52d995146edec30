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


def process_ms(binary, sql):
    started = time.perf_counter()
    out = subprocess.run([binary, "query", "--data", data, "--format", "csv", sql], capture_output=True, text=True)
    elapsed = (time.perf_counter() - started) * 1000
    if out.returncode != 0:
        raise SystemExit(f"{binary}: {out.stderr.strip()}")
    return elapsed


warm = duckdb_over(data)
events = warm.execute("SELECT count(*) FROM events").fetchone()[0]
files = len(warm.execute(f"SELECT * FROM glob('{data}/warehouse/events/**/*.parquet')").fetchall())
print(f"dataset: {events} events in {files} events files; {rounds} interleaved rounds, medians in ms")
header = " | ".join(f"ours {i + 1} process" for i in range(len(binaries)))
print(f"| query | {header} | DuckDB warm | DuckDB fresh connection |")
print("|---" * (3 + len(binaries)) + "|")
for name, sql in queries:
    ours = [[] for _ in binaries]
    duck_warm, duck_fresh = [], []
    warm.execute(sql).fetchall()
    for _ in range(rounds):
        for index, binary in enumerate(binaries):
            ours[index].append(process_ms(binary, sql))
        started = time.perf_counter()
        warm.execute(sql).fetchall()
        duck_warm.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        fresh = duckdb_over(data)
        fresh.execute(sql).fetchall()
        fresh.close()
        duck_fresh.append((time.perf_counter() - started) * 1000)
    cells = " | ".join(f"{statistics.median(o):.1f}" for o in ours)
    print(f"| {name} | {cells} | {statistics.median(duck_warm):.1f} | {statistics.median(duck_fresh):.1f} |")
