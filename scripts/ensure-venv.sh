#!/usr/bin/env bash
# Creates .venv with the oracle engines the tests compare against (never runtime dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import duckdb, pyarrow, polars' 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check duckdb pyarrow polars
fi
