#!/usr/bin/env bash
# Writes Sources/CTrackhouseBuild/build-info.generated.h: the commit `trackhouse --version`
# prints. $TRACKHOUSE_COMMIT wins (the Docker build passes it); else git; else "unknown".
# Rewrites the header only when it changes, then touches the C file that includes it, so the
# build recompiles one file and relinks (and picks up a header that did not exist before).
set -euo pipefail
cd "$(dirname "$0")/.."
commit=${TRACKHOUSE_COMMIT:-}
if [ -z "$commit" ] && command -v git >/dev/null && git rev-parse --git-dir >/dev/null 2>&1; then
  commit=$(git rev-parse --short=12 HEAD 2>/dev/null || true)
  if [ -n "$commit" ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    commit="$commit-dirty"
  fi
fi
commit=${commit:-unknown}
# Only [0-9a-z-] reaches the C string literal.
commit=$(printf '%s' "$commit" | tr -cd '0-9a-zA-Z.-' | cut -c1-64)
header=Sources/CTrackhouseBuild/build-info.generated.h
text="#define TRACKHOUSE_BUILD_COMMIT \"${commit:-unknown}\""
if [ ! -f "$header" ] || [ "$(cat "$header")" != "$text" ]; then
  printf '%s\n' "$text" > "$header"
  touch Sources/CTrackhouseBuild/trackhouse_build.c
fi
