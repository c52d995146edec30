#!/usr/bin/env python3
"""Reads a Parquet file written by Trackhouse with pyarrow, DuckDB and polars and
compares every value with the expectation Trackhouse dumped as JSON.

usage: check_ours.py FILE.parquet EXPECTED.json
EXPECTED.json: {"columns": [{"name": n, "kind": "string|int64|timestamp|bool|double",
                 "values": [...], "null_counts": [per row group]}], "row_groups": N}
Timestamps are compared as integer microseconds since the epoch (UTC).
Prints a JSON report; exit status 1 on any difference.
"""
import json
import sys

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq


def read_pyarrow(path, columns):
    table = pq.read_table(path)
    out = {}
    for column in columns:
        data = table.column(column["name"])
        if column["kind"] == "timestamp":
            data = data.cast(pa.int64())
        out[column["name"]] = data.to_pylist()
    return out


def read_duckdb(path, columns):
    exprs = []
    for column in columns:
        quoted = '"' + column["name"].replace('"', '""') + '"'
        exprs.append(f"epoch_us({quoted})" if column["kind"] == "timestamp" else quoted)
    con = duckdb.connect()
    rows = con.execute(f"SELECT {', '.join(exprs)} FROM read_parquet(?)", [path]).fetchall()
    return {column["name"]: [row[i] for row in rows] for i, column in enumerate(columns)}


def read_polars(path, columns):
    frame = pl.read_parquet(path)
    out = {}
    for column in columns:
        series = frame[column["name"]]
        if column["kind"] == "timestamp":
            series = series.dt.epoch("us")
        out[column["name"]] = series.to_list()
    return out


def check_metadata(path, expected, errors):
    con = duckdb.connect()
    rows = con.execute(
        "SELECT row_group_id, path_in_schema, compression, stats_null_count, stats_min_value, stats_max_value, "
        "encodings FROM parquet_metadata(?) ORDER BY row_group_id, column_id", [path]).fetchall()
    groups = {row[0] for row in rows}
    if len(groups) != expected["row_groups"]:
        errors.append(f"duckdb sees {len(groups)} row groups, expected {expected['row_groups']}")
    by_name = {column["name"]: column for column in expected["columns"]}
    for group, name, compression, null_count, low, high, encodings in rows:
        if compression != "ZSTD":
            errors.append(f"row group {group} column {name}: compression {compression}")
        column = by_name[name]
        if null_count != column["null_counts"][group]:
            errors.append(f"row group {group} column {name}: null_count {null_count}, expected {column['null_counts'][group]}")
        if null_count is not None and null_count < expected["group_rows"][group] and (low is None or high is None):
            errors.append(f"row group {group} column {name}: min/max missing")
        want_low, want_high = column["mins"][group], column["maxs"][group]
        if column["kind"] in ("string", "int64") and want_low is not None:
            if (low, high) != (str(want_low), str(want_high)):
                errors.append(f"duckdb row group {group} column {name}: stats {low!r}..{high!r}, expected {want_low!r}..{want_high!r}")
    # pyarrow's view of the same statistics (typed values).
    metadata = pq.ParquetFile(path).metadata
    for group in range(metadata.num_row_groups):
        for index, column in enumerate(expected["columns"]):
            stats = metadata.row_group(group).column(index).statistics
            if stats is None or stats.null_count != column["null_counts"][group]:
                errors.append(f"pyarrow row group {group} column {column['name']}: null_count {stats and stats.null_count}")
                continue
            want_low, want_high = column["mins"][group], column["maxs"][group]
            if column["kind"] in ("string", "int64") and want_low is not None:
                if not stats.has_min_max or (stats.min, stats.max) != (want_low, want_high):
                    errors.append(f"pyarrow row group {group} column {column['name']}: stats {stats.min!r}..{stats.max!r}, "
                                  f"expected {want_low!r}..{want_high!r}")
    return len(rows)


def same(kind, got, want):
    if want is None or got is None:
        return got is None and want is None
    if kind == "double":
        return float(got) == float(want)
    if kind == "bool":
        return bool(got) == want
    return got == want


def main():
    path, expected_path = sys.argv[1], sys.argv[2]
    with open(expected_path) as handle:
        expected = json.load(handle)
    columns = expected["columns"]
    errors = []
    for reader_name, reader in [("pyarrow", read_pyarrow), ("duckdb", read_duckdb), ("polars", read_polars)]:
        try:
            values = reader(path, columns)
        except Exception as error:  # report every reader's failure, not only the first
            errors.append(f"{reader_name} failed: {error!r}")
            continue
        for column in columns:
            got, want = values[column["name"]], column["values"]
            if len(got) != len(want):
                errors.append(f"{reader_name} {column['name']}: {len(got)} rows, expected {len(want)}")
                continue
            for row, (a, b) in enumerate(zip(got, want)):
                if not same(column["kind"], a, b):
                    errors.append(f"{reader_name} {column['name']} row {row}: {a!r} != {b!r}")
                    break
    chunks = check_metadata(path, expected, errors)
    metadata = pq.ParquetFile(path).metadata
    print(json.dumps({"ok": not errors, "errors": errors[:50], "chunks": chunks,
                      "created_by": metadata.created_by, "format_version": metadata.format_version}))
    sys.exit(0 if not errors else 1)


if __name__ == "__main__":
    main()
