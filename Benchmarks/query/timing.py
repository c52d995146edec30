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


def dashboard_queries(con):
    """The benchmark's queries as (name, table, sql); the point lookup picks the site with the
    most events in this warehouse."""
    point_site = con.execute("SELECT site_key FROM sites ORDER BY event_count DESC, site_key LIMIT 1").fetchone()[0]
    return [
        ("php_minor_per_day", "events", "SELECT date_trunc('day', received_at) AS d, php_minor, count(*) FROM events GROUP BY 1, 2"),
        ("distinct_sites_per_week", "events", "SELECT date_trunc('week', received_at) AS w, count(DISTINCT site_key) FROM events GROUP BY 1"),
        ("locale_latest_per_site", "sites", "SELECT wp_locale, count(*) FROM sites WHERE status = 'active' GROUP BY 1"),
        ("deactivations_by_reason_month", "events", "SELECT date_trunc('month', received_at) AS m, reason_id, count(*) FROM events WHERE event = 'deactivate' GROUP BY 1, 2"),
        ("top_version_per_week", "events", "SELECT date_trunc('week', received_at) AS w, project_version, count(DISTINCT site_key) AS n FROM events WHERE event = 'track' GROUP BY 1, 2 ORDER BY w, n DESC LIMIT 200"),
        ("sum_avg_per_project", "events", "SELECT project_id, sum(users_total), avg(active_plugins), sum(DISTINCT inactive_plugins) FROM events GROUP BY 1"),
        ("count_like_url", "events", "SELECT count(*) FROM events WHERE url LIKE '%shop%'"),
        ("point_site_key", "events", f"SELECT received_at, event, php_version FROM events WHERE site_key = '{point_site}'"),
        # Top-N with every column: the dashboard's deactivations page, an analyst's "latest rows".
        ("newest_50_deactivations", "events", "SELECT * FROM events WHERE event = 'deactivate' ORDER BY received_at DESC, event_id DESC LIMIT 50"),
        ("newest_20_events_one_project", "events", "SELECT * FROM events WHERE project_id = 'acme-seo' ORDER BY received_at DESC LIMIT 20"),
    ]
