"""Reads a Trackhouse warehouse with Apache Spark (PySpark, local mode) and writes each table's
rows rendered like warehouse_rows.py (row_text.py): one file per (reader, table), `<reader>-<table>.txt`.

Spark is read twice: its vectorized Parquet reader (the default) and parquet-mr's row reader
(`spark.sql.parquet.enableVectorizedReader=false`), since they are separate code paths.
One JVM for everything: starting Spark costs seconds.

usage: spark_rows.py <warehouse dir> <out dir> <table>=<col1,col2,...> ...
"""
import os
import sys
import time

# PySpark turns timestamps into naive datetimes in the Python process's local zone.
os.environ["TZ"] = "UTC"
time.tzset()

from pyspark.sql import SparkSession  # noqa: E402

from row_text import write_rows  # noqa: E402

root, out = sys.argv[1], sys.argv[2]
tables = [arg.split("=", 1) for arg in sys.argv[3:]]
spark = (SparkSession.builder.master("local[2]").appName("trackhouse-interop")
         .config("spark.ui.enabled", "false")
         .config("spark.sql.session.timeZone", "UTC")
         .config("spark.driver.memory", "1g")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
for reader, vectorized in [("spark", "true"), ("spark-mr", "false")]:
    spark.conf.set("spark.sql.parquet.enableVectorizedReader", vectorized)
    for table, columns in tables:
        frame = spark.read.parquet(f"{root}/{table}").select(*[f"`{c}`" for c in columns.split(",")])
        with open(os.path.join(out, f"{reader}-{table}.txt"), "w", encoding="utf-8") as handle:
            write_rows(frame.collect(), handle)
spark.stop()
