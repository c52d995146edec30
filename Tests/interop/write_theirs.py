#!/usr/bin/env python3
"""Writes Parquet files with pyarrow and DuckDB in the variants other writers produce
(DataPageV2, v1, no dictionary, dictionary fallback, several row groups, zstd and none)
plus manifest.json with the expected values, for Trackhouse's reader to check.

usage: write_theirs.py OUTDIR
manifest.json: {"files": [name, ...], "columns": {name: {"kind": k, "values": [...]}},
                "unsupported": [{"file": name, "error_contains": text}]}  (every file holds the same columns)
Timestamps are expected as integer microseconds, floats/int32 as their widened values.
"""
import json
import os
import random
import sys

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

ROWS = 5000
BASE_US = 1_700_000_000_000_000


def build():
    rng = random.Random(42)
    versions = ["7.4.33", "8.0.30", "8.1.2", "8.2.0", "8.3.1", "é-beta", "日本"]

    def maybe(value, null_every):
        return None if rng.random() < null_every else value

    data = {
        "php": [maybe(rng.choice(versions), 0.2) for _ in range(ROWS)],
        "one": [maybe("only", 0.3) for _ in range(ROWS)],
        "site": [maybe(f"site-{rng.randrange(10**9)}.example", 0.1) for _ in range(ROWS)],
        "i64": [maybe(rng.randrange(-10**15, 10**15), 0.25) for _ in range(ROWS)],
        "i32": [maybe(rng.randrange(-2**31, 2**31), 0.25) for _ in range(ROWS)],
        "ts": [maybe(BASE_US + i * 1_000_003, 0.1) for i in range(ROWS)],
        "ts_ms": [maybe(BASE_US // 1000 + i * 1_001, 0.1) for i in range(ROWS)],
        "ts_ns": [maybe((BASE_US + i * 7) * 1000, 0.1) for i in range(ROWS)],
        "flag": [maybe(rng.random() < 0.3, 0.2) for _ in range(ROWS)],
        "d": [maybe(rng.randrange(-10**6, 10**6) / 8, 0.2) for _ in range(ROWS)],
        "f": [maybe(rng.randrange(-10**4, 10**4) / 4, 0.2) for _ in range(ROWS)],
        "req": list(range(ROWS)),
        "req_s": [versions[i % 3] for i in range(ROWS)],
    }
    schema = pa.schema([
        pa.field("php", pa.string()), pa.field("one", pa.string()), pa.field("site", pa.string()),
        pa.field("i64", pa.int64()), pa.field("i32", pa.int32()),
        pa.field("ts", pa.timestamp("us", tz="UTC")), pa.field("ts_ms", pa.timestamp("ms", tz="UTC")),
        pa.field("ts_ns", pa.timestamp("ns", tz="UTC")),
        pa.field("flag", pa.bool_()), pa.field("d", pa.float64()), pa.field("f", pa.float32()),
        pa.field("req", pa.int64(), nullable=False), pa.field("req_s", pa.string(), nullable=False),
    ])
    table = pa.Table.from_pydict(data, schema=schema)
    expected = {
        "php": ("string", data["php"]), "one": ("string", data["one"]), "site": ("string", data["site"]),
        "i64": ("int64", data["i64"]), "i32": ("int64", data["i32"]),
        "ts": ("timestamp", data["ts"]),
        "ts_ms": ("timestamp", [None if v is None else v * 1000 for v in data["ts_ms"]]),
        "ts_ns": ("timestamp", [None if v is None else v // 1000 for v in data["ts_ns"]]),
        "flag": ("bool", data["flag"]), "d": ("double", data["d"]), "f": ("double", data["f"]),
        "req": ("int64", data["req"]), "req_s": ("string", data["req_s"]),
    }
    return table, expected


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    table, expected = build()
    common = dict(row_group_size=1700, data_page_size=4096, write_statistics=True)
    variants = {
        "pyarrow-default.parquet": dict(compression="zstd"),
        "pyarrow-v1.parquet": dict(compression="zstd", data_page_version="1.0"),
        "pyarrow-v2.parquet": dict(compression="zstd", data_page_version="2.0"),
        "pyarrow-plain.parquet": dict(compression="zstd", use_dictionary=False),
        "pyarrow-fallback.parquet": dict(compression="zstd", dictionary_pagesize_limit=2048, data_page_version="1.0"),
        "pyarrow-fallback-v2.parquet": dict(compression="zstd", dictionary_pagesize_limit=2048, data_page_version="2.0"),
        "pyarrow-uncompressed.parquet": dict(compression="none"),
    }
    files = []
    for name, options in variants.items():
        pq.write_table(table, os.path.join(out, name), **common, **options)
        files.append(name)
    con = duckdb.connect()
    con.register("source", table)
    duck_path = os.path.join(out, "duckdb.parquet")
    con.execute(f"COPY (SELECT * FROM source) TO '{duck_path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 2048)")
    files.append("duckdb.parquet")
    # A codec we do not read: the reader must name it in its error.
    pq.write_table(table, os.path.join(out, "snappy.parquet"), compression="snappy")
    manifest = {
        "files": files,
        "columns": {column: {"kind": kind, "values": values} for column, (kind, values) in expected.items()},
        "unsupported": [{"file": "snappy.parquet", "error_contains": "SNAPPY"}],
    }
    with open(os.path.join(out, "manifest.json"), "w") as handle:
        json.dump(manifest, handle)
    print(json.dumps({"ok": True, "files": files}))


if __name__ == "__main__":
    main()
