"""Reads a Trackhouse warehouse table with DuckDB (hive partitioning) or pyarrow and prints its
rows rendered like the Swift test does (row_text.py): one line per row, cells joined by '|'.

usage: warehouse_rows.py duckdb|pyarrow <warehouse dir> events|sites col1,col2,...
"""
import sys

from row_text import write_rows

engine, root, table, columns = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")


if engine == "duckdb":
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
