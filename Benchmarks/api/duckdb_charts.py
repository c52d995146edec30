"""The dashboard's charts computed by DuckDB from the warehouse's Parquet files: the anchor
for the API benchmark (what a dashboard over DuckDB would pay per request)."""
import statistics
import sys
import time

import duckdb

data, project, from90, from365, to = sys.argv[1:6]
con = duckdb.connect()
con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet('{data}/warehouse/events/**/*.parquet', hive_partitioning=true) WHERE project_id = '{project}'")
con.execute(f"CREATE VIEW sites AS SELECT * FROM read_parquet('{data}/warehouse/sites/**/*.parquet', hive_partitioning=true) WHERE project_id = '{project}'")


def charts(start):
    r = f"received_at >= TIMESTAMP '{start[:-1]}' AND received_at < TIMESTAMP '{to[:-1]}'"
    latest = lambda dim, days: f"""
        SELECT {dim}, count(*) FROM (
          SELECT site_key, event, {dim} FROM events
          WHERE site_key IS NOT NULL AND received_at < TIMESTAMP '{to[:-1]}'
            AND received_at >= TIMESTAMP '{to[:-1]}' - INTERVAL {days} DAY
          QUALIFY row_number() OVER (PARTITION BY site_key ORDER BY received_at DESC, event_id DESC) = 1)
        WHERE event = 'track' GROUP BY 1"""
    return {
        "stats": [f"SELECT count(DISTINCT CASE WHEN event='track' THEN site_key END), count(CASE WHEN event='deactivate' THEN 1 END), count(DISTINCT CASE WHEN event='skip' AND coalesce(previously_skipped,false)=false THEN site_hash END) FROM events WHERE {r}",
                  f"SELECT count(*) FROM sites WHERE first_seen >= TIMESTAMP '{start[:-1]}' AND first_seen < TIMESTAMP '{to[:-1]}'",
                  latest("1", 14)],
        "timeseries events/day": [f"SELECT date_trunc('day', received_at), count(*) FROM events WHERE {r} GROUP BY 1"],
        "timeseries sites/week": [f"SELECT date_trunc('week', received_at), count(DISTINCT site_key) FROM events WHERE {r} AND event='track' GROUP BY 1"],
        "timeseries new_sites/day": [f"SELECT date_trunc('day', first_seen), count(*) FROM sites WHERE first_seen >= TIMESTAMP '{start[:-1]}' AND first_seen < TIMESTAMP '{to[:-1]}' GROUP BY 1"],
        "timeseries events/day by php_minor": [f"SELECT date_trunc('day', received_at), php_minor, count(*) FROM events WHERE {r} GROUP BY 1, 2"],
        "timeseries sites/week by wp_version": [f"SELECT date_trunc('week', received_at), wp_version, count(DISTINCT site_key) FROM events WHERE {r} AND event='track' GROUP BY 1, 2"],
        "deactivations": [f"SELECT reason_id, count(*) FROM events WHERE event='deactivate' AND {r} GROUP BY 1",
                          f"SELECT * FROM events WHERE event='deactivate' AND {r} ORDER BY received_at DESC, event_id DESC LIMIT 50"],
        "breakdown php_minor 14d (range-free)": [latest("php_minor", 14)],
        "sites page (filter + sort)": [f"SELECT count(*) FROM sites WHERE status='active' AND wp_locale='de_DE'",
                                       f"SELECT * FROM sites WHERE status='active' AND wp_locale='de_DE' ORDER BY first_seen DESC, site_key LIMIT 50 OFFSET 100"],
    }


for threads in (2,):
    con.execute(f"SET threads = {threads}")
    for name, start in (("90d", from90), ("1y", from365)):
        for chart, sqls in charts(start).items():
            times = []
            for _ in range(6):
                t0 = time.perf_counter()
                for sql in sqls:
                    con.execute(sql).fetchall()
                times.append((time.perf_counter() - t0) * 1000)
            print(f"duckdb threads={threads} {name} {chart:40s} median_ms={statistics.median(times[1:]):.1f}")
