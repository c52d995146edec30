"""Runs queries on DuckDB over a Trackhouse warehouse folder and writes tagged answers.

usage: duckdb_queries.py <warehouse dir> <queries.json> <answers.json>
Each answer is {"rows": [[cell, ...], ...]} or {"error": "..."}; cells are strings:
NULL, true/false, integers as digits, doubles as "d:<repr>", timestamps as "t:<epoch micros>".
"""
import datetime
import json
import sys

import duckdb

from row_text import epoch_micros

root, queries_path, answers_path = sys.argv[1:4]
con = duckdb.connect()
con.execute("SET TimeZone='UTC'")
con.execute(f"""CREATE VIEW events AS SELECT * EXCLUDE (month, project) FROM
    read_parquet('{root}/events/**/*.parquet', hive_partitioning=true, hive_types_autocast=false)""")
con.execute(f"""CREATE VIEW sites AS SELECT * EXCLUDE (project) FROM
    read_parquet('{root}/sites/**/*.parquet', hive_partitioning=true, hive_types_autocast=false)""")

def cell(value):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "d:" + repr(value)
    if isinstance(value, datetime.datetime):
        return "t:" + str(epoch_micros(value))
    return str(value)


answers = []
for query in json.load(open(queries_path)):
    try:
        rows = con.execute(query).fetchall()
        answers.append({"rows": [[cell(v) for v in row] for row in rows]})
    except Exception as error:  # the test reports it
        answers.append({"error": str(error)})
json.dump(answers, open(answers_path, "w"))
