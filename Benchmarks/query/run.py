"""Query benchmark: our engine vs DuckDB reading the same Parquet files, 1 and 2 threads,
median of 5 warm runs each. Usage: .venv/bin/python Benchmarks/query/run.py <data dir> <trackhouse binary> [name,name,…]
(the optional third argument runs only the named queries).

Ours runs in one `trackhouse query --repeat 6` process per query and thread count (first run
warms the footer cache and page cache, the next five are timed in-process); DuckDB runs in
process with views over the same files (hive partitioning), one warm-up then five timed runs.
"""
import sys

from timing import dashboard_queries, duckdb_ms, duckdb_over, ours_ms

data, binary = sys.argv[1], sys.argv[2]
con = duckdb_over(data)
events = con.execute("SELECT count(*) FROM events").fetchone()[0]
sites = con.execute("SELECT count(*) FROM sites").fetchone()[0]
print(f"dataset: {events} events, {sites} sites")
queries = dashboard_queries(con)
if len(sys.argv) > 3:
    wanted = set(sys.argv[3].split(","))
    queries = [query for query in queries if query[0] in wanted]

print("| query | threads | ours ms (median of 5) | DuckDB ms (median of 5) | ours rows/s/core | ratio DuckDB/ours |")
print("|---|---|---|---|---|---|")
for name, table, sql in queries:
    rows = events if table == "events" else sites
    for threads in (1, 2):
        ours, error = ours_ms(binary, data, threads, sql)
        if error is not None:
            print(f"| {name} | {threads} | error: {error[:120]} | | | |")
            continue
        duck = duckdb_ms(con, threads, sql)
        print(f"| {name} | {threads} | {ours:.1f} | {duck:.1f} | {rows / (ours / 1000) / threads / 1e6:.1f} M | {duck / ours:.2f} |")
