"""One-off query comparison: each SQL line on stdin runs on our engine and on DuckDB over the
same warehouse, 1 thread by default; prints ours ms, DuckDB ms and DuckDB/ours (medians of 5
warm runs, as run.py measures). For checking a single change against DuckDB in the same minutes.

Usage: .venv/bin/python Benchmarks/query/compare.py <data dir> <trackhouse binary> [threads] < queries.sql
"""
import sys

from timing import duckdb_ms, duckdb_over, ours_ms

data, binary = sys.argv[1], sys.argv[2]
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 1
con = duckdb_over(data)
print("ours_ms duckdb_ms duckdb/ours  sql")
for sql in (line.strip() for line in sys.stdin):
    if not sql or sql.startswith("--"):
        continue
    ours, error = ours_ms(binary, data, threads, sql)
    if error is not None:
        print(f"error: {error[:200]}  {sql}")
        continue
    duck = duckdb_ms(con, threads, sql)
    print(f"{ours:8.1f} {duck:9.1f} {duck / ours:11.2f}  {sql}", flush=True)
