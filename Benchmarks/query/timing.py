"""What run.py and compare.py share: DuckDB views over a warehouse, and the two timings.

Ours: one `trackhouse query --repeat 6` process; the first run warms the footer and page
caches, the median of the other five is the figure. DuckDB: in process, one warm-up, then the
median of five runs.
"""
import statistics
import subprocess
import time

import duckdb


def duckdb_over(data):
    """A DuckDB connection with `events` and `sites` views over `<data>/warehouse`."""
    root = f"{data}/warehouse"
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    con.execute(f"CREATE VIEW events AS SELECT * EXCLUDE (month, project) FROM read_parquet('{root}/events/**/*.parquet', hive_partitioning=true, hive_types_autocast=false)")
    con.execute(f"CREATE VIEW sites AS SELECT * EXCLUDE (project) FROM read_parquet('{root}/sites/**/*.parquet', hive_partitioning=true, hive_types_autocast=false)")
    return con


def ours_ms(binary, data, threads, sql):
    """(median ms, None), or (None, the error text)."""
    out = subprocess.run([binary, "query", "--data", data, "--threads", str(threads), "--repeat", "6", "--format", "csv", sql],
                         capture_output=True, text=True)
    timings = [float(x) for line in out.stderr.splitlines() if line.startswith("elapsed_ms") for x in line.split()[1:]]
    if out.returncode != 0 or len(timings) < 2:
        return None, out.stderr.strip()
    return statistics.median(timings[1:]), None


def duckdb_ms(con, threads, sql):
    con.execute(f"SET threads={threads}")
    con.execute(sql).fetchall()
    times = []
    for _ in range(5):
        started = time.perf_counter()
        con.execute(sql).fetchall()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)
