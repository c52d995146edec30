"""Reads a Trackhouse warehouse table with DuckDB (hive partitioning) or pyarrow and prints its
rows rendered like the Swift test does: one line per row, cells joined by '|', NULL as '∅',
timestamps as epoch microseconds, booleans as t/f; sorted.

usage: warehouse_rows.py duckdb|pyarrow <warehouse dir> events|sites col1,col2,...
"""
import sys

engine, root, table, columns = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")


def render(value):
    if value is None:
        return "∅"
    if isinstance(value, bool):
        return "t" if value else "f"
    if hasattr(value, "timestamp"):
        import datetime
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        delta = value - epoch
        return str((delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds)
    return str(value)


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

lines = sorted("|".join(render(v) for v in row) for row in rows)
sys.stdout.write("\n".join(lines))
if lines:
    sys.stdout.write("\n")
