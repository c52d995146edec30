"""Query benchmark: our engine vs DuckDB reading the same Parquet files, 1 and 2 threads,
median of 5 warm runs each. Usage: .venv/bin/python Benchmarks/query/run.py <data dir> <trackhouse binary> [name,name,…]
(the optional third argument runs only the named queries).

Ours runs in one `trackhouse query --repeat 6` process per query and thread count (first run
warms the footer cache and page cache, the next five are timed in-process); DuckDB runs in
process with views over the same files (hive partitioning), one warm-up then five timed runs.
"""
import sys

from timing import duckdb_ms, duckdb_over, ours_ms

data, binary = sys.argv[1], sys.argv[2]
con = duckdb_over(data)
events = con.execute("SELECT count(*) FROM events").fetchone()[0]
sites = con.execute("SELECT count(*) FROM sites").fetchone()[0]
point_site = con.execute("SELECT site_key FROM sites ORDER BY event_count DESC, site_key LIMIT 1").fetchone()[0]
print(f"dataset: {events} events, {sites} sites")

queries = [
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
