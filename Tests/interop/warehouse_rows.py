"""Reads a Trackhouse warehouse table with DuckDB (hive partitioning) or pyarrow and prints its
rows rendered like the Swift test does (row_text.py): one line per row, cells joined by '|'.

usage: warehouse_rows.py duckdb|duckdb-view|pyarrow <warehouse dir> events|sites col1,col2,...

duckdb-view reads `sites` as the README's one-line view over the base snapshots and the
deltas (sites-delta/), newest file per (project_id, site_key) winning.
"""
import sys

from row_text import write_rows

engine, root, table, columns = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")


# The README's view, word for word but for the warehouse folder.
SITES_VIEW = ("CREATE VIEW sites AS SELECT * EXCLUDE (filename) FROM read_parquet('{root}/sites*/*/*.parquet', "
              "filename = true, union_by_name = true, hive_partitioning = false) QUALIFY row_number() OVER "
              "(PARTITION BY project_id, site_key ORDER BY regexp_extract(filename, '(\\d+)\\.parquet$', 1)::BIGINT DESC) = 1")

if engine == "duckdb-view":
    import duckdb
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    con.execute(SITES_VIEW.format(root=root))
    select = ", ".join(f'"{c}"' for c in columns)
    rows = con.execute(f"SELECT {select} FROM {table}").fetchall()
elif engine == "duckdb":
    import duckdb
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    select = ", ".join(f'"{c}"' for c in columns)
    rows = con.execute(
        f"SELECT {select} FROM read_parquet('{root}/{table}/**/*.parquet', hive_partitioning=true)").fetchall()
else:
    import pyarrow.dataset as ds
    dataset = ds.dataset(f"{root}/{table}", format="parquet", partitioning="hive")
    data = dataset.to_table().to_pylist()
    rows = [tuple(r.get(c) for c in columns) for r in data]

write_rows(rows, sys.stdout)
