"""One-off query comparison: each SQL line on stdin runs on our engine and on DuckDB over the
same warehouse, 1 thread by default; prints ours ms, DuckDB ms and DuckDB/ours (medians of 5
warm runs, as run.py measures). For checking a single change against DuckDB in the same minutes.

Usage: .venv/bin/python Benchmarks/query/compare.py <data dir> <trackhouse binary> [threads] < queries.sql
"""
import statistics
import subprocess
import sys
import time

import duckdb

data, binary = sys.argv[1], sys.argv[2]
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 1
root = f"{data}/warehouse"
con = duckdb.connect()
con.execute("SET TimeZone='UTC'")
con.execute(f"SET threads={threads}")
con.execute(f"CREATE VIEW events AS SELECT * EXCLUDE (month, project) FROM read_parquet('{root}/events/**/*.parquet', hive_partitioning=true, hive_types_autocast=false)")
con.execute(f"CREATE VIEW sites AS SELECT * EXCLUDE (project) FROM read_parquet('{root}/sites/**/*.parquet', hive_partitioning=true, hive_types_autocast=false)")
print("ours_ms duckdb_ms duckdb/ours  sql")
for sql in (line.strip() for line in sys.stdin):
    if not sql or sql.startswith("--"):
        continue
    out = subprocess.run([binary, "query", "--data", data, "--threads", str(threads), "--repeat", "6", "--format", "csv", sql],
                         capture_output=True, text=True)
    timings = [float(x) for line in out.stderr.splitlines() if line.startswith("elapsed_ms") for x in line.split()[1:]]
    if out.returncode != 0 or len(timings) < 2:
        print(f"error: {out.stderr.strip()[:200]}  {sql}")
        continue
    ours = statistics.median(timings[1:])
    con.execute(sql).fetchall()
    duck_times = []
    for _ in range(5):
        started = time.perf_counter()
        con.execute(sql).fetchall()
        duck_times.append((time.perf_counter() - started) * 1000)
    duck = statistics.median(duck_times)
    print(f"{ours:8.1f} {duck:9.1f} {duck / ours:11.2f}  {sql}", flush=True)
