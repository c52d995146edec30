#ifndef TRACKHOUSE_BUILD_H
#define TRACKHOUSE_BUILD_H

/// The git commit the binary was built from ("unknown" when the build did not know it).
const char *trackhouse_build_commit(void);

#endif
