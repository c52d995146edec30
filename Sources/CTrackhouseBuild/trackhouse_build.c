#include "trackhouse_build.h"

// Written by scripts/build-info.sh before each build (git-ignored). A build without it (a
// plain `swift build` from a fresh clone, or git missing) says "unknown"; nothing else
// depends on it, so no build behaves differently from another.
#if __has_include("build-info.generated.h")
#include "build-info.generated.h"
#endif
#ifndef TRACKHOUSE_BUILD_COMMIT
#define TRACKHOUSE_BUILD_COMMIT "unknown"
#endif

const char *trackhouse_build_commit(void) { return TRACKHOUSE_BUILD_COMMIT; }
