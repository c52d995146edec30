"""Two builds of our engine against each other and DuckDB, interleaved: for each dashboard
query (timing.dashboard_queries) and thread count, ROUNDS rounds of A, B, DuckDB in turn, so
the three share the drift of a busy machine; prints the medians and the ratios B/A and
DuckDB/B. For "before and after" figures of a build change (e.g. checks on).

Usage: .venv/bin/python Benchmarks/query/ab.py <data A> <binary A> <data B> <binary B> [rounds]
(A and B may read different warehouses compacted from the same raw files: each build its own.)
"""
import statistics
import sys

from timing import dashboard_queries, duckdb_ms, duckdb_over, ours_ms

data_a, binary_a, data_b, binary_b = sys.argv[1:5]
rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 3
con = duckdb_over(data_b)
events = con.execute("SELECT count(*) FROM events").fetchone()[0]
print(f"dataset: {events} events; {rounds} rounds of A, B, DuckDB; each figure a median of medians of 5")
print("| query | threads | A ms | B ms | DuckDB ms | B/A | DuckDB/B |")
print("|---|---|---|---|---|---|---|")
for name, _, sql in dashboard_queries(con):
    for threads in (1, 2):
        a, b, d = [], [], []
        for _ in range(rounds):
            a.append(ours_ms(binary_a, data_a, threads, sql)[0])
            b.append(ours_ms(binary_b, data_b, threads, sql)[0])
            d.append(duckdb_ms(con, threads, sql))
        if None in a or None in b:
            print(f"| {name} | {threads} | error | | | | |")
            continue
        ma, mb, md = statistics.median(a), statistics.median(b), statistics.median(d)
        print(f"| {name} | {threads} | {ma:.1f} | {mb:.1f} | {md:.1f} | {mb / ma:.2f} | {md / mb:.2f} |", flush=True)
